// Tag colours dark enough for white text (4.5:1 and more, axe's color-contrast): antd's preset
// tag colours are light text on a tint, below 4.5:1.
export const TAG_COLORS = {
  green: '#237804',
  gold: '#874d00',
  orange: '#ad4e00',
  purple: '#531dab',
  blue: '#0958d9',
  red: '#a8071a',
  grey: '#595959',
  volcano: '#ad2102',
} as const;
