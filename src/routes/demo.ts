import { Type } from 'typebox';
import { getBalance } from '../modules/ledger/index.ts';
import { mintMemberToken } from '../modules/me/index.ts';
import { listMembers } from '../modules/members/index.ts';
import { getProgram, MemberToken } from '../modules/programs/index.ts';
import { DomainError } from '../shared/errors.ts';
import type { App } from '../shared/http.ts';
import { NullableString, problems } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

const tags = ['Demo'];
/** Public: a visitor of the demo has no API key and no member token yet. */
const security: [] = [];

/** How long a demo sign-in lasts. */
export const DEMO_TOKEN_SECONDS = 3600;
/** Members offered for sign-in, per demo program. */
export const DEMO_MEMBER_COUNT = 12;
/** Members looked at to choose them (one page of the member list). */
const CANDIDATES = 40;

const DemoProgramId = Type.String({ minLength: 1, maxLength: 80, description: 'A demo program: prg_demo or prg_demo_beauty.' });

const DemoProgram = Type.Object({ id: Type.String(), name: Type.String(), point_name: Type.String(), point_name_en: Type.String() });

const DemoMember = Type.Object({
  id: Type.String(),
  external_id: Type.String(),
  name: NullableString,
  phone: Type.Union([Type.String({ description: 'Masked: 138****5678.' }), Type.Null()]),
  tier: NullableString,
  available: Type.Integer(),
  expiring_30_days: Type.Integer({ description: 'Points that expire within 30 days.' }),
  expires_soon: Type.Boolean({ description: 'Whether any points expire within 30 days.' }),
});

const DemoMemberList = Type.Object({
  object: Type.Literal('list'),
  program: DemoProgram,
  programs: Type.Array(DemoProgram, { description: 'Every demo program, for a choice between them.' }),
  data: Type.Array(DemoMember),
});

/** A phone number as a sign-in list may show it: the first three and last four digits of the national number. */
export function maskPhone(phone: string | null): string | null {
  if (!phone) return null;
  const national = phone.replace(/^\+86/, '').replace(/\D/g, '');
  if (national.length < 7) return '****';
  return `${national.slice(0, 3)}****${national.slice(-4)}`;
}

export interface DemoOptions {
  /** The demo's programs (src/demo), handed in by app.ts: routes do not import the top level. */
  programIds: readonly string[];
}

/**
 * The demo sign-in of the member centre, registered only when the server runs the demo
 * (JIFEN_DEMO): a few members of each demo program to choose from, and a short-lived member token
 * for the one chosen. Public (no API key): only the demo programs answer, any other is 404.
 */
export async function demoRoutes(app: App, { db, clock }: AppDeps, { programIds }: DemoOptions) {
  const demoProgram = async (id: string) => {
    if (!programIds.includes(id)) throw new DomainError('PROGRAM_NOT_FOUND', `No demo program ${id}`, { program_id: id });
    const p = await getProgram(db, id);
    return { id: p.id, name: p.name, point_name: p.point_name, point_name_en: p.point_name_en };
  };

  app.get(
    '/v1/demo/members',
    {
      schema: {
        tags,
        summary: 'Members of a demo program to sign in as',
        operationId: 'listDemoMembers',
        security,
        description:
          'Only on a server running the demo (JIFEN_DEMO). A dozen members of the program (the first demo program if none is named), ' +
          'those with points expiring within 30 days first, for the member centre’s demo sign-in. Phones are masked.',
        querystring: Type.Object({ program_id: Type.Optional(DemoProgramId) }, { additionalProperties: false }),
        response: { 200: DemoMemberList, ...problems(404) },
      },
    },
    async (request) => {
      const program = await demoProgram(request.query.program_id ?? programIds[0]!);
      const programs = [];
      for (const id of programIds) programs.push(id === program.id ? program : await demoProgram(id).catch(() => null));
      const now = clock.now();
      const members = await listMembers(db, program.id, { status: 'active', limit: CANDIDATES });
      const rows = [];
      for (const m of members.data) {
        const balance = await getBalance(db, m.id, now);
        rows.push({
          id: m.id,
          external_id: m.external_id,
          name: m.name,
          phone: maskPhone(m.phone),
          tier: m.tier,
          available: balance.available,
          expiring_30_days: balance.expiring.days_30,
          expires_soon: balance.expiring.days_30 > 0,
        });
      }
      // half with points expiring soon (the banner and the calendar have something to show), then the largest balances
      const soon = rows.filter((r) => r.expires_soon).sort((a, b) => b.available - a.available);
      const chosen = soon.slice(0, DEMO_MEMBER_COUNT / 2);
      const rest = rows.filter((r) => !chosen.includes(r)).sort((a, b) => b.available - a.available);
      chosen.push(...rest.slice(0, DEMO_MEMBER_COUNT - chosen.length));
      chosen.sort((a, b) => (a.external_id < b.external_id ? -1 : a.external_id > b.external_id ? 1 : 0));
      return { object: 'list' as const, program, programs: programs.filter((p) => p !== null), data: chosen };
    },
  );

  app.post(
    '/v1/demo/member-token',
    {
      // minting a token changes nothing (like createMemberToken): not in the change log
      config: { changeLog: false },
      schema: {
        tags,
        summary: 'Sign in as a demo member',
        operationId: 'createDemoMemberToken',
        security,
        description:
          'Only on a server running the demo (JIFEN_DEMO). A member token (one hour) for a member of a demo program, minted like ' +
          'POST /v1/programs/{programId}/member-tokens, for the member centre’s demo sign-in. Any other program is 404.',
        body: Type.Object(
          { program_id: DemoProgramId, external_id: Type.String({ minLength: 1, maxLength: 128 }) },
          { additionalProperties: false, description: 'The demo program and the member’s external_id.' },
        ),
        response: { 201: MemberToken, ...problems(404, 422) },
      },
    },
    async (request, reply) => {
      const { program_id, external_id } = request.body;
      await demoProgram(program_id);
      reply.header('cache-control', 'no-store');
      return reply.code(201).send(await mintMemberToken(db, program_id, { external_id, expires_in_seconds: DEMO_TOKEN_SECONDS }, clock.now()));
    },
  );
}
