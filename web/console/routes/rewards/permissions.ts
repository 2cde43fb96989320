// What the rewards pages need of the viewer's role (src/modules/console-users/permissions.ts;
// docs/rewards.md, "Permissions"): the catalogue, price changes, code pools and the lottery are
// the rules' permission (owner, operator); shipping and delivering a member write (support too);
// cancelling and rejecting give points back, a ledger write (finance too). The API refuses the
// others anyway; the pages only hide the buttons (a viewer sees none).
export const CATALOGUE_WRITE = 'rules.write' as const;
export const FULFIL_WRITE = 'members.write' as const;
export const RESTORE_WRITE = 'ledger.write' as const;
