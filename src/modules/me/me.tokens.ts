import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';
import type { Queryable } from '../../db/db.ts';
import type { Clock } from '../../shared/clock.ts';
import { DomainError, fieldError } from '../../shared/errors.ts';
import { getMember, getMemberByExternalId, type Member } from '../members/index.ts';
import {
  effectiveAudience,
  ensureMemberTokenSecret,
  findMemberTokenConfig,
  findMemberTokenConfigsByAudience,
  JIFEN_ISSUER,
  JWKS_ALGORITHMS,
  MEMBER_TOKEN_CLOCK_TOLERANCE_SECONDS,
  MEMBER_TOKEN_DEFAULT_SECONDS,
  MEMBER_TOKEN_MAX_SECONDS,
  type MemberTokenConfigRow,
  memberTokenConfigVersion,
} from '../programs/index.ts';

/** Longest token accepted (bytes of the compact JWT). */
export const MEMBER_TOKEN_MAX_LENGTH = 8192;
/** How many `aud` values of one token are looked at. */
const MAX_AUDIENCES = 5;
/** Configurations are cached this long: another instance's change applies within it. */
const CONFIG_CACHE_MS = 10_000;

/** Who a verified member token names. */
export interface MemberPrincipal {
  programId: string;
  member: Member;
  /** How the token was verified: `secret` (HS256, minted or yours) or `jwks`. */
  via: 'secret' | 'jwks';
}

/** A rejected token: 401, with the reason in words (RFC 6750 invalid_token). */
export class InvalidMemberToken extends DomainError {
  constructor(detail: string) {
    super('UNAUTHENTICATED', detail, { reason: 'invalid_token' });
  }
}

/** The merchant's JWKS could not be fetched: not the caller's fault, 503 with Retry-After. */
export class JwksUnavailable extends DomainError {
  constructor(detail: string) {
    super('SERVICE_UNAVAILABLE', detail, { retry_after_seconds: 30 });
  }
}

const encoder = new TextEncoder();
const epoch = (d: Date) => Math.floor(d.getTime() / 1000);

/** Words for why jose refused a token (jose's own messages carry quotes and internals). */
function explain(err: unknown): string {
  if (err instanceof errors.JWTExpired) return err.claim === 'iat' ? 'The token was issued too long ago' : 'The token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return `The token has no ${err.claim} claim`;
    if (err.claim === 'aud') return 'The token is for another audience';
    if (err.claim === 'iss') return 'The token is from an issuer this program does not accept';
    if (err.claim === 'nbf') return 'The token is not valid yet';
    if (err.claim === 'iat') return 'The token is issued in the future';
    return `The token's ${err.claim} claim is not valid`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'The token signature is not valid';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'The token algorithm is not accepted';
  if (err instanceof errors.JWKSNoMatchingKey) return "No key of the program's JWKS matches the token";
  if (err instanceof errors.JWKSMultipleMatchingKeys) return "Several keys of the program's JWKS match the token; give it a kid";
  return 'The token is not a valid JWT';
}

/**
 * Verifies member tokens: finds the program by the token's audience, checks the signature with
 * the program's HS256 secrets (current, then previous) or its JWKS, then the claims, then that
 * the member exists in that program and is not closed.
 */
export class MemberTokenVerifier {
  readonly #db: Queryable;
  readonly #clock: Clock;
  readonly #configs = new Map<string, { rows: MemberTokenConfigRow[]; until: number }>();
  #configVersion = memberTokenConfigVersion();
  readonly #jwks = new Map<string, JWTVerifyGetKey>();

  constructor(db: Queryable, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
  }

  async verify(token: string): Promise<MemberPrincipal> {
    if (token.length > MEMBER_TOKEN_MAX_LENGTH) throw new InvalidMemberToken(`The token is longer than ${MEMBER_TOKEN_MAX_LENGTH} characters`);
    if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) throw new InvalidMemberToken('The token is not a JWT (a member token, not an API key, is needed here)');
    let header: ReturnType<typeof decodeProtectedHeader>;
    let claims: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      claims = decodeJwt(token);
    } catch {
      throw new InvalidMemberToken('The token is not a valid JWT');
    }
    const audiences = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud.filter((a) => typeof a === 'string') : [];
    if (audiences.length === 0) throw new InvalidMemberToken('The token has no aud claim');
    if (audiences.length > MAX_AUDIENCES) throw new InvalidMemberToken(`The token names more than ${MAX_AUDIENCES} audiences`);
    const configs = await this.#configsFor(audiences);
    if (configs.length === 0) throw new InvalidMemberToken("No program has the token's audience");
    if (configs.length > 1) throw new InvalidMemberToken('The token names the audiences of several programs');
    const config = configs[0]!;
    const now = this.#clock.now();
    const options = {
      audience: effectiveAudience(config),
      requiredClaims: ['exp', 'sub'],
      maxTokenAge: MEMBER_TOKEN_MAX_SECONDS,
      clockTolerance: MEMBER_TOKEN_CLOCK_TOLERANCE_SECONDS,
      currentDate: now,
    };
    let payload: JWTPayload;
    let via: MemberPrincipal['via'];
    if (header.alg === 'HS256') {
      via = 'secret';
      payload = await this.#verifyWithSecrets(token, header.kid, config, {
        ...options,
        algorithms: ['HS256'],
        issuer: config.issuer ? [JIFEN_ISSUER, config.issuer] : [JIFEN_ISSUER],
      });
    } else if ((JWKS_ALGORITHMS as readonly string[]).includes(String(header.alg))) {
      via = 'jwks';
      if (!config.jwks_url || !config.issuer)
        throw new InvalidMemberToken(`The program accepts ${String(header.alg)} tokens only with a JWKS URL in its member-token settings`);
      try {
        payload = (await jwtVerify(token, this.#remote(config.jwks_url), { ...options, algorithms: [...JWKS_ALGORITHMS], issuer: config.issuer })).payload;
      } catch (err) {
        if (err instanceof DomainError) throw err;
        throw new InvalidMemberToken(explain(err));
      }
    } else {
      throw new InvalidMemberToken(`The token algorithm ${String(header.alg).slice(0, 20)} is not accepted (HS256, ${JWKS_ALGORITHMS.join(', ')})`);
    }
    // lifetime bounded like minted tokens: a token valid for a year is a password, not a session
    if (typeof payload.iat === 'number' && typeof payload.exp === 'number' && payload.exp - payload.iat > MEMBER_TOKEN_MAX_SECONDS) {
      throw new InvalidMemberToken(`The token lives longer than ${MEMBER_TOKEN_MAX_SECONDS} seconds (exp - iat)`);
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > 128) throw new InvalidMemberToken("The token's sub must be the member's external_id");
    let member: Member;
    try {
      member = await getMemberByExternalId(this.#db, config.program_id, sub);
    } catch (err) {
      if (err instanceof DomainError && (err.code === 'MEMBER_NOT_FOUND' || err.code === 'PROGRAM_NOT_FOUND'))
        throw new InvalidMemberToken('The token names no member of the program');
      throw err;
    }
    if (member.status === 'closed') throw new InvalidMemberToken('The member is closed');
    return { programId: config.program_id, member, via };
  }

  async #verifyWithSecrets(
    token: string,
    kid: string | undefined,
    config: MemberTokenConfigRow,
    options: Parameters<typeof jwtVerify>[2],
  ): Promise<JWTPayload> {
    const secrets = [
      { id: config.secret_id, secret: config.secret },
      { id: config.previous_secret_id, secret: config.previous_secret },
    ].filter((s): s is { id: string; secret: string } => typeof s.secret === 'string' && (kid === undefined || s.id === kid));
    if (secrets.length === 0) {
      throw new InvalidMemberToken(
        kid === undefined ? 'The program has no member-token secret' : "The token's kid names no current or previous secret of the program",
      );
    }
    let last: unknown;
    for (const s of secrets) {
      try {
        return (await jwtVerify(token, encoder.encode(s.secret), options)).payload;
      } catch (err) {
        last = err;
        if (!(err instanceof errors.JWSSignatureVerificationFailed)) break;
      }
    }
    throw new InvalidMemberToken(explain(last));
  }

  /** The JWKS of a URL, fetched by jose and kept (10 minutes; refetched for an unknown kid after 30 s). */
  #remote(url: string): JWTVerifyGetKey {
    let remote = this.#jwks.get(url);
    if (!remote) {
      if (this.#jwks.size >= 1000) this.#jwks.clear();
      const set = createRemoteJWKSet(new URL(url), { timeoutDuration: 5000 });
      remote = async (header, token) => {
        try {
          return await set(header, token);
        } catch (err) {
          if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) throw err;
          throw new JwksUnavailable("The program's JWKS could not be fetched or read; try again later");
        }
      };
      this.#jwks.set(url, remote);
    }
    return remote;
  }

  async #configsFor(audiences: string[]): Promise<MemberTokenConfigRow[]> {
    const version = memberTokenConfigVersion();
    if (version !== this.#configVersion) {
      this.#configs.clear();
      this.#configVersion = version;
    }
    const key = JSON.stringify([...new Set(audiences)].sort());
    const hit = this.#configs.get(key);
    const now = Date.now();
    if (hit && hit.until > now) return hit.rows;
    const rows = await findMemberTokenConfigsByAudience(this.#db, audiences);
    if (this.#configs.size >= 10_000) this.#configs.clear();
    this.#configs.set(key, { rows, until: now + CONFIG_CACHE_MS });
    return rows;
  }
}

export interface MintInput {
  member_id?: string;
  external_id?: string;
  expires_in_seconds?: number;
}

/**
 * A token Jifen signs for a member, for the merchant's backend to hand to its app: HS256 with the
 * program's current secret (made on first use), iss `jifen`, aud the program's audience, sub
 * the member's external_id, kid the secret's id.
 */
export async function mintMemberToken(db: Queryable, programId: string, input: MintInput, now: Date) {
  if ((input.member_id === undefined) === (input.external_id === undefined)) {
    throw fieldError(
      input.member_id === undefined ? '/member_id' : '/external_id',
      input.member_id === undefined ? 'or external_id is required' : 'must not be sent with member_id',
      'exactly_one_of',
      { fields: 'member_id, external_id' },
    );
  }
  // checks first, in the order of the not-founds; the secret is made only for a token that will be minted
  let config = await findMemberTokenConfig(db, programId);
  if (!config) throw new DomainError('PROGRAM_NOT_FOUND', `No program ${programId}`, { program_id: programId });
  let member: Member;
  if (input.member_id !== undefined) {
    member = await getMember(db, input.member_id);
    if (member.program_id !== programId) throw new DomainError('MEMBER_NOT_FOUND', `No member ${input.member_id}`, { member_id: input.member_id });
  } else {
    member = await getMemberByExternalId(db, programId, input.external_id!);
  }
  if (member.status === 'closed') throw new DomainError('MEMBER_CLOSED', `Member ${member.id} is closed`, { member_id: member.id });
  if (!config.secret) config = await ensureMemberTokenSecret(db, programId, now);
  const ttl = input.expires_in_seconds ?? MEMBER_TOKEN_DEFAULT_SECONDS;
  const iat = epoch(now);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: config.secret_id! })
    .setIssuer(JIFEN_ISSUER)
    .setAudience(effectiveAudience(config))
    .setSubject(member.external_id)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .sign(encoder.encode(config.secret!));
  return {
    object: 'member_token' as const,
    token,
    token_type: 'Bearer' as const,
    program_id: programId,
    member_id: member.id,
    expires_in: ttl,
    expires_at: new Date((iat + ttl) * 1000).toISOString(),
  };
}
