// What the tier pages need of the viewer's role (src/modules/console-users/permissions.ts):
// editing the ladder is the rules' permission (owner, operator); an override is a member write
// (owner, operator, support). The API refuses the others anyway; the pages only hide the buttons.
export const LADDER_WRITE = 'rules.write' as const;
export const OVERRIDE_WRITE = 'members.write' as const;
