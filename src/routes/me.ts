import type { FastifyRequest } from 'fastify';
import { requireProgram, scopeOf } from '../modules/api-keys/index.ts';
import { Balance, EntryListQuery, getBalance, Lot, LotListQuery, listLots } from '../modules/ledger/index.ts';
import * as me from '../modules/me/index.ts';
import { ExpiryForecast, MeEntry, type MemberPrincipal, MeProfile, mintMemberToken } from '../modules/me/index.ts';
import { MemberToken, MemberTokenCreate } from '../modules/programs/index.ts';
import type { App } from '../shared/http.ts';
import { IdParam, PageOf, problems } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

const tags = ['Members'];
/** The member routes authenticate with a member token, not an API key. */
const security = [{ memberToken: [] }];
const member = { member: true } as const;

function principal(request: FastifyRequest): MemberPrincipal {
  // the member-auth hook has run: routes marked member never reach here without one
  return request.member!;
}

/** The member's own data: profile, balance, lots, expiry forecast and history (the member's writes, such as redeeming, are in their modules' routes). */
export async function meRoutes(app: App, { db, clock }: AppDeps) {
  app.get(
    '/v1/me',
    {
      config: member,
      schema: {
        tags,
        summary: "The member's own profile",
        operationId: 'getMe',
        security,
        description:
          "For the member's app, with a member token. Everything under /v1/me is the token's member only. Its writes (redeeming a reward, drawing a lottery) take an Idempotency-Key like every write.",
        response: { 200: MeProfile, ...problems() },
      },
    },
    async (request) => me.profileOf(db, principal(request).member),
  );

  app.get(
    '/v1/me/balance',
    {
      config: member,
      schema: { tags, summary: "The member's balance", operationId: 'getMyBalance', security, response: { 200: Balance, ...problems() } },
    },
    async (request) => getBalance(db, principal(request).member.id, clock.now()),
  );

  app.get(
    '/v1/me/lots',
    {
      config: member,
      schema: {
        tags,
        summary: "The member's lots",
        operationId: 'listMyLots',
        security,
        querystring: LotListQuery,
        description: 'One lot per credit, with what is left of it and when it becomes available and expires.',
        response: { 200: PageOf(Lot, 'MyLot'), ...problems() },
      },
    },
    async (request) => listLots(db, principal(request).member.id, request.query, clock.now()),
  );

  app.get(
    '/v1/me/expiry-forecast',
    {
      config: member,
      schema: {
        tags,
        summary: "When the member's points expire",
        operationId: 'getMyExpiryForecast',
        security,
        description: "Points that will expire unless spent first, by date and by month in the program's time zone.",
        response: { 200: ExpiryForecast, ...problems() },
      },
    },
    async (request) => me.expiryForecast(db, principal(request).member, clock.now()),
  );

  app.get(
    '/v1/me/entries',
    {
      config: member,
      schema: {
        tags,
        summary: "The member's history",
        operationId: 'listMyEntries',
        security,
        querystring: EntryListQuery,
        description: 'Newest first. `reason` says why, in words: for points earned from events, how they were computed.',
        response: { 200: PageOf(MeEntry, 'MyEntry'), ...problems() },
      },
    },
    async (request) => me.historyOf(db, principal(request).member.id, request.query),
  );
}

/** Jifen mints a member token for the merchant's backend (an integration key) to hand to its app. */
export async function memberTokenRoutes(app: App, { db, clock }: AppDeps) {
  app.post(
    '/v1/programs/:programId/member-tokens',
    {
      config: { scope: 'integration' },
      schema: {
        tags,
        summary: 'Mint a member token',
        operationId: 'createMemberToken',
        description:
          "A short-lived JWT (HS256, signed with the program's member-token secret) for one member, for `Authorization: Bearer` on /v1/me. " +
          "Claims: iss `jifen`, aud the program's audience, sub the member's external_id, iat, exp. Minting changes nothing: no Idempotency-Key needed.",
        params: IdParam('programId', 'prg'),
        body: MemberTokenCreate,
        response: { 201: MemberToken, ...problems(404, 422) },
      },
    },
    async (request, reply) => {
      const { programId } = request.params;
      requireProgram(scopeOf(request), programId);
      reply.header('cache-control', 'no-store');
      return reply.code(201).send(await mintMemberToken(db, programId, request.body, clock.now()));
    },
  );
}
