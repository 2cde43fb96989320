// A row of buttons choosing one value (the history's filter, the language): plain buttons with
// aria-pressed in a labelled fieldset, reachable and usable with a keyboard.
export function Choice<V extends string>({
  label,
  value,
  options,
  onChange,
  testId,
}: {
  label: string;
  value: V;
  options: readonly { label: string; value: V }[];
  onChange: (value: V) => void;
  testId?: string;
}) {
  return (
    <fieldset className="m-choice" data-testid={testId}>
      <legend className="m-sr-only">{label}</legend>
      {options.map((o) => (
        <button
          key={o.value}
          type="button"
          className={`m-choice-item${o.value === value ? ' m-choice-active' : ''}`}
          aria-pressed={o.value === value}
          onClick={() => o.value !== value && onChange(o.value)}
        >
          {o.label}
        </button>
      ))}
    </fieldset>
  );
}
