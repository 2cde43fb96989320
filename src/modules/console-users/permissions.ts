/**
 * What a console user may do: the permissions, what each role grants, and the permission every
 * API operation (by operationId) needs when a console user calls it with the session cookie.
 * API keys do not use this table: their scopes decide (plugins/auth.ts).
 *
 * A new route adds its operationId here; test/console-users.test.ts fails when an operation of the
 * OpenAPI document that declares a scope has no entry.
 */

export type Permission =
  | 'read'
  | 'members.write'
  | 'members.status'
  | 'points.adjust'
  | 'ledger.write'
  | 'rules.write'
  | 'events.write'
  | 'settings.write'
  | 'api_keys.manage'
  | 'users.manage';

export const PERMISSIONS: readonly Permission[] = [
  'read',
  'members.write',
  'members.status',
  'points.adjust',
  'ledger.write',
  'rules.write',
  'events.write',
  'settings.write',
  'api_keys.manage',
  'users.manage',
];

export type Role = 'owner' | 'operator' | 'finance' | 'support' | 'viewer';

export const ROLES: readonly Role[] = ['owner', 'operator', 'finance', 'support', 'viewer'];

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  viewer: ['read'],
  support: ['read', 'members.write', 'members.status'],
  finance: ['read', 'points.adjust', 'ledger.write'],
  operator: ['read', 'members.write', 'members.status', 'points.adjust', 'ledger.write', 'rules.write', 'events.write'],
  owner: PERMISSIONS,
};

/** Whether a role grants a permission. */
export function roleAllows(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/**
 * The permission each operation needs. Operations marked deploymentWide (createProgram, runSweep)
 * also need the role to hold for every program (program_id null).
 */
export const OPERATION_PERMISSIONS: Record<string /* operationId */, Permission> = {
  // programs
  createProgram: 'settings.write',
  listPrograms: 'read',
  getProgram: 'read',
  getDashboard: 'read',
  getTopRewards: 'read',
  updateProgram: 'settings.write',
  getMemberTokenSettings: 'read',
  updateMemberTokenSettings: 'settings.write',
  rotateMemberTokenSecret: 'settings.write',
  // members
  createMember: 'members.write',
  listMembers: 'read',
  getMemberByExternalId: 'read',
  getMember: 'read',
  updateMember: 'members.write',
  freezeMember: 'members.status',
  unfreezeMember: 'members.status',
  closeMember: 'members.status',
  createMemberToken: 'members.write',
  // ledger
  creditPoints: 'ledger.write',
  debitPoints: 'ledger.write',
  createHold: 'ledger.write',
  captureHold: 'ledger.write',
  voidHold: 'ledger.write',
  getHold: 'read',
  listHolds: 'read',
  reverseCredit: 'ledger.write',
  getEntry: 'read',
  adjustPoints: 'points.adjust',
  transferPoints: 'ledger.write',
  recordActivity: 'members.write',
  getBalance: 'read',
  listEntries: 'read',
  listLots: 'read',
  getExpiryForecast: 'read',
  runSweep: 'settings.write',
  // rules
  createRule: 'rules.write',
  listRules: 'read',
  getRule: 'read',
  reviseRule: 'rules.write',
  archiveRule: 'rules.write',
  // segments (rule-based groups of members: the rules' permission)
  createSegment: 'rules.write',
  listSegments: 'read',
  previewSegment: 'read',
  getSegment: 'read',
  updateSegment: 'rules.write',
  archiveSegment: 'rules.write',
  refreshSegment: 'rules.write',
  listSegmentMembers: 'read',
  listMemberSegments: 'read',
  // tiers: the ladder is the program's design (owner, operator), an override a member's care (support too)
  putTierLadder: 'rules.write',
  getTierLadder: 'read',
  getTierMix: 'read',
  listProgramTierHistory: 'read',
  getTierStatus: 'read',
  listTierHistory: 'read',
  setTierOverride: 'members.write',
  endTierOverride: 'members.write',
  // rewards: the catalogue is the program's design (owner, operator); redeeming, cancelling and
  // rejecting move points (ledger.write); shipping and delivering are a member's care (support too)
  createReward: 'rules.write',
  listRewards: 'read',
  getReward: 'read',
  updateReward: 'rules.write',
  archiveReward: 'rules.write',
  createPriceChange: 'rules.write',
  listPriceChanges: 'read',
  deletePriceChange: 'rules.write',
  getDonationTotals: 'read',
  redeemReward: 'ledger.write',
  listMemberRedemptions: 'read',
  listRedemptions: 'read',
  getRedemption: 'read',
  shipRedemption: 'members.write',
  deliverRedemption: 'members.write',
  cancelRedemption: 'ledger.write',
  rejectRedemption: 'ledger.write',
  // code pools: filling one and seeing issued codes in full is the catalogue's (rules.write)
  importRewardCodes: 'rules.write',
  listRewardCodeImports: 'read',
  getRewardCodeImport: 'read',
  generateRewardCodes: 'rules.write',
  listRewardCodes: 'read',
  listRevealedRewardCodes: 'rules.write',
  // lotteries: the prize table and the seeds are the catalogue's design (rules.write)
  createLotteryPrize: 'rules.write',
  listLotteryPrizes: 'read',
  updateLotteryPrize: 'rules.write',
  archiveLotteryPrize: 'rules.write',
  rotateLotterySeed: 'rules.write',
  listLotterySeeds: 'read',
  listLotteryDraws: 'read',
  // checkout deduction: the policy is a setting; deductions move points like holds (ledger.write)
  getCheckoutPolicy: 'read',
  putCheckoutPolicy: 'settings.write',
  quoteCheckout: 'read',
  createCheckoutDeduction: 'ledger.write',
  listCheckoutDeductions: 'read',
  getCheckoutDeduction: 'read',
  captureCheckoutDeduction: 'ledger.write',
  voidCheckoutDeduction: 'ledger.write',
  refundCheckoutDeduction: 'ledger.write',
  // events
  sendEvent: 'events.write',
  sendEvents: 'events.write',
  previewEvent: 'read',
  getEvent: 'read',
  getEventByExternalId: 'read',
  listMemberEvents: 'read',
  listProgramEvents: 'read',
  listEventTypes: 'read',
  createEventType: 'events.write',
  // api keys
  createApiKey: 'api_keys.manage',
  listApiKeys: 'api_keys.manage',
  revokeApiKey: 'api_keys.manage',
  // operations
  auditLedger: 'read',
  // the change log (audit log of changes)
  listChanges: 'read',
  getChange: 'read',
  // console (sign-in, session and password are for any signed-in user and need no entry)
  listConsoleUsers: 'users.manage',
  createConsoleUser: 'users.manage',
  updateConsoleUser: 'users.manage',
  resetConsolePassword: 'users.manage',
};
