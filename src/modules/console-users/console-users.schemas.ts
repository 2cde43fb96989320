import { Type } from 'typebox';
import { Nullable, NullableTimestamp, StringEnum, Timestamp } from '../../shared/schemas.ts';
import { PERMISSIONS, ROLES } from './permissions.ts';

const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254, examples: ['ops@example.com'] });
const ProgramId = Type.String({ pattern: '^prg_[A-Za-z0-9_]{1,64}$' });
/** Passwords: 10 to 256 characters, anything (a passphrase is welcome). */
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;
const NewPassword = Type.String({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX, description: '10 to 256 characters.' });

export const RoleName = StringEnum(ROLES, {
  description:
    'owner: everything, users and keys included; operator: members, points, rules, events; finance: points and the ledger; support: members; viewer: read only.',
});

export const RoleGrant = Type.Object(
  {
    program_id: Nullable(ProgramId),
    role: RoleName,
  },
  { additionalProperties: false, description: 'A role in one program, or (program_id null) in every program.' },
);

export const Access = Type.Object({
  program_id: Nullable(Type.String()),
  role: RoleName,
  permissions: Type.Array(StringEnum(PERMISSIONS)),
});

export const ConsoleUserRef = Type.Object({ id: Type.String(), email: Type.String(), name: Type.String() });

export const ConsoleSessionView = Type.Object({
  object: Type.Literal('console_session'),
  user: ConsoleUserRef,
  csrf_token: Type.String({ description: 'Send it as X-CSRF-Token on every POST, PUT, PATCH and DELETE made with the session cookie.' }),
  expires_at: Timestamp,
  idle_timeout_seconds: Type.Integer(),
  access: Type.Array(Access, { description: "The user's roles and what each allows." }),
});

export const SignInBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX }),
  },
  { additionalProperties: false },
);

export const PasswordChange = Type.Object(
  {
    current_password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX }),
    new_password: NewPassword,
  },
  { additionalProperties: false },
);

export const ConsoleUser = Type.Object({
  id: Type.String(),
  object: Type.Literal('console_user'),
  email: Type.String(),
  name: Type.String(),
  roles: Type.Array(RoleGrant),
  created_at: Timestamp,
  password_changed_at: Timestamp,
  disabled_at: NullableTimestamp,
});

export const ConsoleUserCreate = Type.Object(
  {
    email: Email,
    name: Type.String({ minLength: 1, maxLength: 100 }),
    roles: Type.Array(RoleGrant, { minItems: 1, maxItems: 100 }),
    password: Type.Optional(NewPassword),
  },
  { additionalProperties: false },
);

export const ConsoleUserCreated = Type.Object({
  ...ConsoleUser.properties,
  initial_password: Type.Optional(
    Type.String({
      description: 'The generated password, when none was given: shown only in this response (a replay with the same Idempotency-Key answers without it).',
    }),
  ),
});

export const ConsoleUserUpdate = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    roles: Type.Optional(
      Type.Array(RoleGrant, { maxItems: 100, description: "Replaces the user's roles (a program owner replaces only those in their programs)." }),
    ),
    disabled: Type.Optional(Type.Boolean({ description: 'true: the user can no longer sign in and their sessions end.' })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const PasswordResetResult = Type.Object({
  ...ConsoleUser.properties,
  password: Type.Optional(
    Type.String({ description: 'The new generated password, shown only in this response (a replay with the same Idempotency-Key answers without it).' }),
  ),
});
