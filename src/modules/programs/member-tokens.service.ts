import { randomBytes } from 'node:crypto';
import type { Db, Queryable } from '../../db/db.ts';
import { DomainError, fieldError } from '../../shared/errors.ts';
import { type IdempotencyContext, type WriteResult, withIdempotency } from '../../shared/idempotency.ts';
import { newId } from '../../shared/ids.ts';
import * as repo from './member-tokens.repository.ts';
import type { MemberTokenSettings, MemberTokenSettingsUpdate, SecretRotation } from './member-tokens.schemas.ts';

export type { MemberTokenConfigRow } from './member-tokens.repository.ts';

/**
 * Settings writes of this process, counted: verifiers that cache configurations drop their cache
 * when it moves (other instances see a change within their cache time).
 */
let configVersion = 0;
export function memberTokenConfigVersion(): number {
  return configVersion;
}

/** The `aud` a program's member tokens carry. */
export function effectiveAudience(row: Pick<repo.MemberTokenConfigRow, 'program_id' | 'audience'>): string {
  return row.audience ?? `jifen:${row.program_id}`;
}

/** 256 random bits, the size of an HS256 key. */
function newSecret(): string {
  return `jfmts_${randomBytes(32).toString('base64url')}`;
}

function notFound(programId: string): DomainError {
  return new DomainError('PROGRAM_NOT_FOUND', `No program ${programId}`, { program_id: programId });
}

function view(row: repo.MemberTokenConfigRow): MemberTokenSettings {
  return {
    object: 'member_token_settings',
    program_id: row.program_id,
    audience: effectiveAudience(row),
    issuer: row.issuer,
    jwks_url: row.jwks_url,
    secret: row.secret_id ? { id: row.secret_id, created_at: row.secret_created_at! } : null,
    previous_secret: row.previous_secret_id
      ? { id: row.previous_secret_id, created_at: row.previous_secret_created_at!, retired_at: row.previous_secret_retired_at }
      : null,
    updated_at: row.updated_at,
  };
}

export async function findMemberTokenConfig(db: Queryable, programId: string): Promise<repo.MemberTokenConfigRow | undefined> {
  return repo.findConfig(db, programId);
}

/** The programs (at most two are returned: more than one is ambiguous) whose audience is one of these. */
export async function findMemberTokenConfigsByAudience(db: Queryable, audiences: string[]): Promise<repo.MemberTokenConfigRow[]> {
  return repo.findConfigsByAudience(db, audiences);
}

export async function getMemberTokenSettings(db: Queryable, programId: string): Promise<MemberTokenSettings> {
  const row = await repo.findConfig(db, programId);
  if (!row) throw notFound(programId);
  return view(row);
}

export async function updateMemberTokenSettings(
  db: Db,
  programId: string,
  patch: MemberTokenSettingsUpdate,
  now: Date,
  idem?: IdempotencyContext,
): Promise<WriteResult<MemberTokenSettings>> {
  let audience = patch.audience;
  if (audience === `jifen:${programId}`) audience = null;
  else if (audience?.startsWith('jifen:'))
    throw fieldError('/audience', 'must not start with jifen: (reserved for the default audiences)', 'reserved', { value: 'jifen:' });
  if (patch.issuer === 'jifen') throw fieldError('/issuer', 'must not be jifen (the issuer of the tokens Jifen mints)', 'reserved', { value: 'jifen' });
  return withIdempotency(db, idem, now, async (tx) => {
    const before = await repo.findConfig(tx, programId);
    if (!before) throw notFound(programId);
    const issuer = patch.issuer === undefined ? before.issuer : patch.issuer;
    const jwksUrl = patch.jwks_url === undefined ? before.jwks_url : patch.jwks_url;
    if (jwksUrl !== null && issuer === null) {
      throw fieldError('/issuer', 'is required while jwks_url is set', 'required_with', { field: 'jwks_url' });
    }
    if (audience && (await repo.audienceTaken(tx, programId, audience))) {
      throw new DomainError('AUDIENCE_IN_USE', `Another program already uses the audience ${audience}`, { audience }, [
        { path: '/audience', location: 'body', message: 'is used by another program', rule: 'taken' },
      ]);
    }
    try {
      await repo.upsertSettings(tx, programId, { audience: audience === undefined ? before.audience : audience, issuer, jwks_url: jwksUrl }, now);
    } catch (err) {
      // two programs claiming the same audience at once: the second one loses here
      if ((err as { code?: string }).code === '23505') {
        throw new DomainError('AUDIENCE_IN_USE', `Another program already uses the audience ${audience}`, { audience }, [
          { path: '/audience', location: 'body', message: 'is used by another program', rule: 'taken' },
        ]);
      }
      throw err;
    }
    configVersion++;
    return { status: 200, body: view((await repo.findConfig(tx, programId))!) };
  });
}

/**
 * A new HS256 secret, returned once. The one it replaces stays valid until the next rotation, so
 * backends can switch over without downtime; revoke_previous drops it at once (a leaked secret).
 */
export async function rotateMemberTokenSecret(db: Db, programId: string, input: SecretRotation, now: Date, idem?: IdempotencyContext) {
  return withIdempotency(db, idem, now, async (tx) => {
    if (!(await repo.findConfig(tx, programId))) throw notFound(programId);
    const id = newId('mts');
    const secret = newSecret();
    await repo.rotateSecret(tx, programId, id, secret, input.revoke_previous ?? false, now);
    configVersion++;
    const row = (await repo.findConfig(tx, programId))!;
    return {
      status: 201,
      body: {
        object: 'member_token_secret' as const,
        program_id: programId,
        id,
        secret,
        created_at: row.secret_created_at!,
        previous_secret_id: row.previous_secret_id,
      },
    };
  });
}

/** The configuration with a current secret, making the program's first one if it has none (for minting). */
export async function ensureMemberTokenSecret(db: Queryable, programId: string, now: Date): Promise<repo.MemberTokenConfigRow> {
  const row = await repo.findConfig(db, programId);
  if (!row) throw notFound(programId);
  if (row.secret) return row;
  await repo.ensureSecret(db, programId, newId('mts'), newSecret(), now);
  configVersion++;
  return (await repo.findConfig(db, programId))!;
}
