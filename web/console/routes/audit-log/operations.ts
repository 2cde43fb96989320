// The operations of the change log the page names in words (locales: ops.<operationId>); others
// show their operationId. Also the options of the operation filter, grouped.

export const OPERATION_GROUPS: Record<string, readonly string[]> = {
  points: ['creditPoints', 'debitPoints', 'adjustPoints', 'transferPoints', 'createHold', 'captureHold', 'voidHold', 'reverseCredit', 'recordActivity'],
  members: ['createMember', 'updateMember', 'freezeMember', 'unfreezeMember', 'closeMember'],
  rules: ['createRule', 'reviseRule', 'archiveRule'],
  segments: ['createSegment', 'updateSegment', 'archiveSegment', 'refreshSegment'],
  tiers: ['putTierLadder', 'setTierOverride', 'endTierOverride'],
  events: ['sendEvent', 'sendEvents', 'createEventType'],
  settings: ['createProgram', 'updateProgram', 'updateMemberTokenSettings', 'rotateMemberTokenSecret', 'createApiKey', 'revokeApiKey', 'runSweep'],
};

export const KNOWN_OPERATIONS: ReadonlySet<string> = new Set(Object.values(OPERATION_GROUPS).flat());

export const ACTOR_TYPES = ['console_user', 'api_key', 'member', 'system'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];
