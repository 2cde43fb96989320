/**
 * Model-based test of the points ledger: fast-check generates sequences of ledger commands (earn,
 * spend, hold, capture, void, reverse, transfer, adjust, idempotent replay, clock moves, sweep,
 * freeze/unfreeze), runs each against the real ledger (PL/pgSQL through ledger.service.ts) and
 * against the in-memory reference model in helpers/ledger-model.ts, and after every step compares
 * every member's balance, every lot, the holds, the member statuses and the journal (entries per
 * member by kind and accounts, and the sum of their deltas), and runs the audit of the program.
 * Each run gets a fresh program (random expiry policy, pending days, hold timeout and
 * negative_balance_policy), 2–3 fresh members and its own clock, in the suite's database; the suite
 * runs once on PGlite and once on PostgreSQL (see helpers/db.ts).
 *
 *   node --test test/ledger.model.test.ts
 *
 * Environment:
 *   JIFEN_MODEL_RUNS=<n>           runs per database (default 100 on PostgreSQL, the production path, and 40 on
 *                                  PGlite, which runs the same SQL slower; a new seed every run, so CI's runs add up)
 *   JIFEN_MODEL_MAX_COMMANDS=<n>   longest command sequence (default 40)
 *   JIFEN_MODEL_SEED=<seed>        replay a failure: fast-check prints `seed` and `path` when a run fails
 *   JIFEN_MODEL_PATH=<path>          (e.g. JIFEN_MODEL_SEED=-1234 JIFEN_MODEL_PATH="17:2:0" node --test test/ledger.model.test.ts)
 *   JIFEN_MODEL_REPLAY_PATH=<str>  the replayPath="…" fast-check prints inside the counterexample, to replay
 *                                  the shrunk command sequence exactly (use together with SEED and PATH)
 *   JIFEN_MODEL_STATS=1            print how often each outcome and state was reached (to tune the generators)
 *   TEST_DATABASE_URL=none         PGlite only; add --test-name-pattern='\[postgres\]' for PostgreSQL only
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import type { Db } from '../src/db/db.ts';
import { runAudit } from '../src/modules/audit/audit.service.ts';
import * as ledger from '../src/modules/ledger/ledger.service.ts';
import { setMemberStatus } from '../src/modules/members/members.service.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { DomainError } from '../src/shared/errors.ts';
import { requestHash, type WriteResult } from '../src/shared/idempotency.ts';
import { forEachDatabase } from './helpers/db.ts';
import { makeMember, makeProgram, unique } from './helpers/factories.ts';
import {
  type BalanceFields,
  DAY_MS,
  type EntryTotals,
  type EventKind,
  type ExpiryPolicy,
  IDEMPOTENCY_RETENTION_MS,
  LedgerModel,
  type MemberStatus,
  ModelError,
  type ModelLot,
  type ProgramRules,
  type ReversalSummary,
} from './helpers/ledger-model.ts';

const RUNS_GIVEN = process.env.JIFEN_MODEL_RUNS === undefined ? undefined : Number(process.env.JIFEN_MODEL_RUNS);
const runsOn = (kind: string) => RUNS_GIVEN ?? (kind === 'postgres' ? 100 : 40);
const MAX_COMMANDS = Number(process.env.JIFEN_MODEL_MAX_COMMANDS ?? 40);
const SEED = process.env.JIFEN_MODEL_SEED === undefined ? undefined : Number(process.env.JIFEN_MODEL_SEED);
const PATH = process.env.JIFEN_MODEL_PATH;
const REPLAY_PATH = process.env.JIFEN_MODEL_REPLAY_PATH;

const HOUR_MS = 3_600_000;

/** Outcome counts per operation (printed with JIFEN_MODEL_STATS=1, to see what the generators reach). */
const stats = new Map<string, number>();
function count(what: string): void {
  stats.set(what, (stats.get(what) ?? 0) + 1);
}

// ---- the real system and the model state fast-check threads through the commands ---------------

interface Real {
  db: Db;
  clock: ManualClock;
  programId: string;
  members: string[];
}

/** A successful write, remembered so that it can be replayed with its idempotency key. */
interface WriteRecord {
  call: WriteCall;
  key: string;
  hash: string;
  status: number;
  body: unknown;
  createdAt: number;
}

interface World {
  ledger: LedgerModel;
  now: number;
  members: string[];
  writes: WriteRecord[];
  /** The sweep purges idempotency keys created before this instant. */
  purgedBefore: number;
}

type WriteCall =
  | { op: 'credit'; member: string; body: { points: number; pending_days?: number } }
  | { op: 'debit'; member: string; body: { points: number } }
  | { op: 'hold'; member: string; body: { points: number; expires_in_seconds?: number } }
  | { op: 'capture'; holdId: string; body: { points?: number } }
  | { op: 'void'; holdId: string; body: Record<string, never> }
  | { op: 'reverse'; entryId: string; body: { points?: number } }
  | { op: 'adjust'; member: string; body: { points: number; reason_code: string } }
  | { op: 'transfer'; body: { from_member_id: string; to_member_id: string; points: number } };

// Response bodies, as far as the test reads them.
interface EntryBody {
  id: string;
  kind: string;
  amount: number;
}
interface LotBody {
  id: string;
  entry_id: string;
}
interface HoldBody {
  id: string;
  amount: number;
  captured: number;
  status: string;
}
interface AnyBody {
  entry?: EntryBody;
  entries?: EntryBody[];
  lot?: LotBody | null;
  hold?: HoldBody;
  reversal?: ReversalSummary & { entry_id: string };
  balance?: BalanceFields;
  from_balance?: BalanceFields;
  to_balance?: BalanceFields;
}

function send(db: Db, call: WriteCall, ctx: ledger.WriteContext): Promise<WriteResult<unknown>> {
  switch (call.op) {
    case 'credit':
      return ledger.credit(db, call.member, call.body, ctx);
    case 'debit':
      return ledger.debit(db, call.member, call.body, ctx);
    case 'hold':
      return ledger.hold(db, call.member, call.body, ctx);
    case 'capture':
      return ledger.capture(db, call.holdId, call.body, ctx);
    case 'void':
      return ledger.voidHold(db, call.holdId, call.body, ctx);
    case 'reverse':
      return ledger.reverse(db, call.entryId, call.body, ctx);
    case 'adjust':
      return ledger.adjust(db, call.member, call.body, ctx);
    case 'transfer':
      return ledger.transfer(db, call.body, ctx);
  }
}

/** The request hash, as the HTTP layer computes it: operation and everything the request asks for. */
function hashOf(call: WriteCall): string {
  return requestHash(call.op, call);
}

/** The same target with a different payload (another reason, and another amount where there is one). */
function altered(call: WriteCall): WriteCall {
  const body = { ...call.body, reason: 'a different request' } as Record<string, unknown>;
  if (typeof body.points === 'number') body.points = body.points > 0 ? body.points + 1 : body.points - 1;
  return { ...call, body } as WriteCall;
}

const BALANCE_FIELDS = ['available', 'pending', 'held', 'debt', 'lifetime_earned', 'lifetime_spent', 'lifetime_expired'] as const;

function pickBalance(b: BalanceFields | undefined): BalanceFields | undefined {
  if (!b) return b;
  return Object.fromEntries(BALANCE_FIELDS.map((f) => [f, b[f]])) as unknown as BalanceFields;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function lotView(l: ModelLot, now: number) {
  return {
    id: l.id,
    member_id: l.member,
    entry_id: l.entryId,
    amount: l.amount,
    remaining: l.remaining,
    held: l.held,
    spent: l.spent,
    expired: l.expired,
    reversed: l.reversed,
    earned_at: iso(l.earnedAt),
    available_at: iso(l.availableAt),
    expires_at: iso(l.expiresAt),
    state:
      l.remaining === 0 && l.held === 0 ? 'consumed' : l.expiresAt !== null && l.expiresAt <= now ? 'expired' : l.availableAt > now ? 'pending' : 'available',
  };
}
type LotView = ReturnType<typeof lotView>;

/** The fields of a lot (API shape) that the model predicts. */
function projectLot(l: LotView): LotView {
  return {
    id: l.id,
    member_id: l.member_id,
    entry_id: l.entry_id,
    amount: l.amount,
    remaining: l.remaining,
    held: l.held,
    spent: l.spent,
    expired: l.expired,
    reversed: l.reversed,
    earned_at: l.earned_at,
    available_at: l.available_at,
    expires_at: l.expires_at,
    state: l.state,
  };
}

// ---- comparing the real system with the model ---------------------------------------------------

async function verify(w: World, r: Real): Promise<void> {
  const now = r.clock.now();
  const t = now.getTime();
  assert.equal(t, w.now, 'clock and model time agree');
  const m = w.ledger;

  for (const id of w.members) {
    const real = pickBalance(await ledger.getBalance(r.db, id, now));
    assert.deepEqual(real, m.balance(id, t), `balance of ${id}`);
  }

  // every lot of every member, through the API's listing (state=all)
  const lots: LotView[] = [];
  for (const id of w.members) {
    const page = await ledger.listLots(r.db, id, { state: 'all', limit: 1000 }, now);
    assert.equal(page.has_more, false);
    lots.push(...(page.data as unknown as LotView[]));
  }
  const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  assert.deepEqual(lots.map(projectLot).sort(byId), m.lots.map((l) => lotView(l, t)).sort(byId), 'lots');

  const rows = await r.db.query<{ member_id: string; k: string; n: number; amount: number; delta: number }>(
    `SELECT member_id, kind || ' ' || debit_account || '>' || credit_account AS k, count(*)::int AS n,
            sum(amount)::int AS amount, sum(delta)::int AS delta
       FROM ledger_entry WHERE program_id = $1 GROUP BY 1, 2 ORDER BY 1, 2`,
    [r.programId],
  );
  const realEntries: Record<string, EntryTotals> = Object.fromEntries(w.members.map((id) => [id, {}]));
  const realDelta: Record<string, number> = Object.fromEntries(w.members.map((id) => [id, 0]));
  for (const row of rows) {
    (realEntries[row.member_id] ??= {})[row.k] = { count: row.n, amount: row.amount };
    realDelta[row.member_id] = (realDelta[row.member_id] ?? 0) + row.delta;
  }
  assert.deepEqual(realEntries, m.entries, 'entries per member by kind and accounts');
  for (const id of w.members) {
    assert.equal(realDelta[id], m.ledgerBalance(id), `sum of entry deltas of ${id} = lots remaining - debt`);
    assert.equal(m.entryDelta(id), m.ledgerBalance(id), `model self-check: journal of ${id} matches its lots`);
  }

  const holds = await r.db.query<{ id: string; member_id: string; amount: number; captured: number; status: string; expires_at: string }>(
    `SELECT id, member_id, amount::int AS amount, captured::int AS captured, status, jf_ts(expires_at) AS expires_at
       FROM hold WHERE program_id = $1 ORDER BY id`,
    [r.programId],
  );
  const expectedHolds = [...m.holds]
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((h) => ({ id: h.id, member_id: h.member, amount: h.amount, captured: h.captured, status: h.status, expires_at: iso(h.expiresAt) }));
  assert.deepEqual(
    holds.map((h) => ({ ...h })),
    expectedHolds,
    'holds',
  );

  const statuses = await r.db.query<{ id: string; status: string }>('SELECT id, status FROM member WHERE program_id = $1 ORDER BY id', [r.programId]);
  assert.deepEqual(
    statuses.map((s) => ({ ...s })),
    [...m.members].sort((a, b) => (a.id < b.id ? -1 : 1)).map((x) => ({ id: x.id, status: x.status })),
    'member statuses',
  );

  for (const x of m.members) {
    if (x.debt > 0) count('state: member in debt');
    if (x.status === 'frozen') count('state: member frozen');
  }
  if (m.holds.some((h) => h.status === 'open' && h.expiresAt <= t)) count('state: hold past deadline, not released');
  if (m.lots.some((l) => l.remaining > 0 && l.expiresAt !== null && l.expiresAt <= t)) count('state: lot past expiry, not swept');
  if (m.lots.some((l) => l.held > 0 && l.expiresAt !== null && l.expiresAt <= t)) count('state: held points in an expired lot');

  const audit = await runAudit(r.db, now, r.programId);
  assert.ok(audit.ok, `audit: ${JSON.stringify(audit.violations)}`);
}

/**
 * One write: run it on the real ledger with a fresh idempotency key, apply it to a copy of the model
 * (with the ids the real ledger chose), and check both agree: the same error code (and then nothing
 * changed), or success with the same resulting state. `apply` throws ModelError for an expected error
 * and may return a check of the response body.
 */
async function write(
  w: World,
  r: Real,
  call: WriteCall,
  // biome-ignore lint/suspicious/noConfusingVoidType: apply is a model step that may return nothing, sync or async
  apply: (m: LedgerModel, body: AnyBody | undefined, now: number) => Promise<((body: AnyBody) => void) | void> | ((body: AnyBody) => void) | void,
): Promise<void> {
  const now = r.clock.now();
  const key = unique('model');
  const hash = hashOf(call);
  let result: WriteResult<unknown> | undefined;
  let error: DomainError | undefined;
  try {
    result = await send(r.db, call, { now, actor: 'model-test', idempotency: { scope: r.programId, key, hash } });
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    error = err;
  }
  const next = w.ledger.clone();
  let expected: string | undefined;
  let checkBody: ((body: AnyBody) => void) | undefined;
  try {
    // a step that returns nothing has no body check
    checkBody = (await apply(next, result?.body as AnyBody | undefined, now.getTime())) as ((body: AnyBody) => void) | undefined;
  } catch (err) {
    if (!(err instanceof ModelError)) throw err;
    expected = err.code;
  }
  count(`${call.op} ${expected ?? 'ok'}`);
  if (expected !== undefined) {
    assert.ok(error, `expected ${expected}, but the ledger accepted the write: ${JSON.stringify(result?.body)}`);
    assert.equal(error.code, expected, `error code (details ${JSON.stringify(error.details)})`);
  } else {
    assert.ok(!error, `the model accepts the write, the ledger refused it: ${error?.code} ${JSON.stringify(error?.details)}`);
    assert.ok(result);
    assert.equal(result.replayed, false, 'a fresh key is not a replay');
    assert.equal(result.status, call.op === 'capture' || call.op === 'void' ? 200 : 201, 'status');
    const body = result.body as AnyBody;
    w.ledger = next;
    w.writes.push({ call, key, hash, status: result.status, body: result.body, createdAt: now.getTime() });
    if (body.balance) assert.deepEqual(pickBalance(body.balance), next.balance(memberOf(call, next), now.getTime()), 'balance in the response');
    if (checkBody) checkBody(body);
  }
  await verify(w, r);
}

function memberOf(call: WriteCall, m: LedgerModel): string {
  switch (call.op) {
    case 'capture':
    case 'void':
      return m.holdById(call.holdId).member;
    case 'reverse':
      return m.credits.find((c) => c.entryId === call.entryId)!.member;
    case 'transfer':
      return call.body.from_member_id;
    default:
      return call.member;
  }
}

// ---- amounts chosen relative to what the member has ---------------------------------------------

/** A share of what the member has available (over 100% to provoke INSUFFICIENT_POINTS), or a fixed amount. */
type Amount = { percent: number } | { points: number };
const amountArb: fc.Arbitrary<Amount> = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 1, max: 100 }).map((percent) => ({ percent })) },
  { weight: 1, arbitrary: fc.integer({ min: 101, max: 150 }).map((percent) => ({ percent })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 400 }).map((points) => ({ points })) },
);
function resolveAmount(a: Amount, available: number): number {
  return 'points' in a ? a.points : Math.max(1, Math.ceil((Math.max(available, 0) * a.percent) / 100));
}
const showAmount = (a: Amount) => ('points' in a ? `${a.points}` : `${a.percent}%`);

const pick = <T>(xs: T[], i: number): T => xs[i % xs.length]!;

// ---- commands -----------------------------------------------------------------------------------

abstract class Step implements fc.AsyncCommand<World, Real> {
  abstract check(w: Readonly<World>): boolean;
  abstract exec(w: World, r: Real): Promise<void>;
  abstract toString(): string;
  async run(w: World, r: Real): Promise<void> {
    try {
      await this.exec(w, r);
    } catch (err) {
      if (err instanceof Error) {
        const where = `step ${this.toString()} at ${new Date(w.now).toISOString()}: `;
        err.message = where + err.message;
        if (err.stack) err.stack = where + err.stack;
      }
      throw err;
    }
  }
}

class Earn extends Step {
  readonly m: number;
  readonly points: number;
  readonly pendingDays: number | undefined;
  constructor(m: number, points: number, pendingDays: number | undefined) {
    super();
    this.m = m;
    this.points = points;
    this.pendingDays = pendingDays;
  }
  check() {
    return true;
  }
  toString() {
    return `earn(m${this.m}, ${this.points}${this.pendingDays === undefined ? '' : `, pending ${this.pendingDays}d`})`;
  }
  exec(w: World, r: Real) {
    const member = pick(w.members, this.m);
    const body = this.pendingDays === undefined ? { points: this.points } : { points: this.points, pending_days: this.pendingDays };
    return write(w, r, { op: 'credit', member, body }, (m, res, now) => {
      const lot = m.credit(member, this.points, this.pendingDays, now, { entryId: res?.entry?.id ?? '?', lotId: res?.lot?.id ?? '?' });
      return (b) => assert.deepEqual(projectLot(b.lot as unknown as LotView), lotView(lot, now), 'lot in the response');
    });
  }
}

class Spend extends Step {
  readonly m: number;
  readonly amount: Amount;
  constructor(m: number, amount: Amount) {
    super();
    this.m = m;
    this.amount = amount;
  }
  check() {
    return true;
  }
  toString() {
    return `spend(m${this.m}, ${showAmount(this.amount)})`;
  }
  exec(w: World, r: Real) {
    const member = pick(w.members, this.m);
    const points = resolveAmount(this.amount, w.ledger.available(member, w.now));
    return write(w, r, { op: 'debit', member, body: { points } }, (m, _res, now) => m.debit(member, points, now));
  }
}

class Hold extends Step {
  readonly m: number;
  readonly amount: Amount;
  readonly expiresIn: number | undefined;
  constructor(m: number, amount: Amount, expiresIn: number | undefined) {
    super();
    this.m = m;
    this.amount = amount;
    this.expiresIn = expiresIn;
  }
  check() {
    return true;
  }
  toString() {
    return `hold(m${this.m}, ${showAmount(this.amount)}${this.expiresIn === undefined ? '' : `, ${this.expiresIn}s`})`;
  }
  exec(w: World, r: Real) {
    const member = pick(w.members, this.m);
    const points = resolveAmount(this.amount, w.ledger.available(member, w.now));
    const body = this.expiresIn === undefined ? { points } : { points, expires_in_seconds: this.expiresIn };
    return write(w, r, { op: 'hold', member, body }, (m, res, now) => {
      const h = m.hold(member, points, this.expiresIn, now, res?.hold?.id ?? '?');
      return (b) => assert.deepEqual({ amount: b.hold!.amount, status: b.hold!.status }, { amount: h.amount, status: 'open' }, 'hold in the response');
    });
  }
}

/** Picks a hold: an open one within its deadline when preferOpen and there is one, else any (the others provoke errors). */
function pickHold(w: World, i: number, preferOpen: boolean) {
  const open = w.ledger.holds.filter((h) => h.status === 'open' && h.expiresAt > w.now);
  return pick(preferOpen && open.length > 0 ? open : w.ledger.holds, i);
}

type CaptureMode = { mode: 'omit' } | { mode: 'full' } | { mode: 'partial'; percent: number } | { mode: 'over'; extra: number };

class Capture extends Step {
  readonly i: number;
  readonly preferOpen: boolean;
  readonly how: CaptureMode;
  constructor(i: number, preferOpen: boolean, how: CaptureMode) {
    super();
    this.i = i;
    this.preferOpen = preferOpen;
    this.how = how;
  }
  check(w: Readonly<World>) {
    return w.ledger.holds.length > 0;
  }
  toString() {
    return `capture(hold#${this.i}${this.preferOpen ? ' open' : ''}, ${this.how.mode}${'percent' in this.how ? ` ${this.how.percent}%` : ''}${'extra' in this.how ? ` +${this.how.extra}` : ''})`;
  }
  exec(w: World, r: Real) {
    const h = pickHold(w, this.i, this.preferOpen);
    const points =
      this.how.mode === 'omit'
        ? undefined
        : this.how.mode === 'full'
          ? h.amount
          : this.how.mode === 'partial'
            ? Math.max(1, Math.floor((h.amount * this.how.percent) / 100))
            : h.amount + this.how.extra;
    return write(w, r, { op: 'capture', holdId: h.id, body: points === undefined ? {} : { points } }, (m, _res, now) => {
      const after = m.capture(h.id, points, now);
      if (after.allocations.length > 1 && after.captured < after.amount) count('capture: partial across several lots');
      if (
        after.allocations.some((a) => {
          const l = m.lotById(a.lotId);
          return l.expiresAt !== null && l.expiresAt <= now;
        })
      )
        count('capture: from a lot that expired meanwhile');
      return (b) =>
        assert.deepEqual({ captured: b.hold!.captured, status: b.hold!.status }, { captured: after.captured, status: 'captured' }, 'hold in the response');
    });
  }
}

class Void extends Step {
  readonly i: number;
  readonly preferOpen: boolean;
  constructor(i: number, preferOpen: boolean) {
    super();
    this.i = i;
    this.preferOpen = preferOpen;
  }
  check(w: Readonly<World>) {
    return w.ledger.holds.length > 0;
  }
  toString() {
    return `void(hold#${this.i}${this.preferOpen ? ' open' : ''})`;
  }
  exec(w: World, r: Real) {
    const h = pickHold(w, this.i, this.preferOpen);
    return write(w, r, { op: 'void', holdId: h.id, body: {} }, (m, _res, now) => {
      m.void(h.id, now);
      return (b) => assert.deepEqual({ captured: b.hold!.captured, status: b.hold!.status }, { captured: 0, status: 'voided' }, 'hold in the response');
    });
  }
}

type ReverseMode = { mode: 'whole' } | { mode: 'partial'; percent: number } | { mode: 'over'; extra: number };

class Reverse extends Step {
  readonly i: number;
  readonly how: ReverseMode;
  constructor(i: number, how: ReverseMode) {
    super();
    this.i = i;
    this.how = how;
  }
  check(w: Readonly<World>) {
    return w.ledger.credits.length > 0;
  }
  toString() {
    return `reverse(credit#${this.i}, ${this.how.mode}${'percent' in this.how ? ` ${this.how.percent}%` : ''}${'extra' in this.how ? ` +${this.how.extra}` : ''})`;
  }
  exec(w: World, r: Real) {
    const c = pick(w.ledger.credits, this.i);
    const lot = c.lotId === null ? undefined : w.ledger.lotById(c.lotId);
    const reversible = lot ? lot.amount - lot.reversalTotal : 1;
    const points =
      this.how.mode === 'whole'
        ? undefined
        : this.how.mode === 'partial'
          ? Math.max(1, Math.floor((reversible * this.how.percent) / 100))
          : reversible + this.how.extra;
    return write(w, r, { op: 'reverse', entryId: c.entryId, body: points === undefined ? {} : { points } }, (m, _res, now) => {
      const summary = m.reverse(c.entryId, points, now);
      for (const [k, v] of Object.entries(summary)) if (k !== 'requested' && v > 0) count(`reverse part: ${k}`);
      return (b) => {
        const { entry_id, ...rest } = b.reversal!;
        assert.equal(entry_id, c.entryId);
        assert.deepEqual(rest, summary, 'reversal in the response');
      };
    });
  }
}

class Transfer extends Step {
  readonly from: number;
  readonly to: number;
  readonly amount: Amount;
  constructor(from: number, to: number, amount: Amount) {
    super();
    this.from = from;
    this.to = to;
    this.amount = amount;
  }
  check() {
    return true;
  }
  toString() {
    return `transfer(m${this.from} -> m${this.from}+${this.to}, ${showAmount(this.amount)})`;
  }
  exec(w: World, r: Real) {
    const from = pick(w.members, this.from);
    const to = pick(w.members, this.from + (this.to % w.members.length === 0 && this.to > 0 ? 1 : this.to));
    const points = resolveAmount(this.amount, w.ledger.available(from, w.now));
    return write(w, r, { op: 'transfer', body: { from_member_id: from, to_member_id: to, points } }, async (m, res, now) => {
      const entryIn = res?.entries?.[1]?.id ?? '?';
      // the real lots created for the recipient, matched to the model's parts by amount and expiry
      const created = res
        ? await r.db.query<{ id: string; amount: number; expires_at: string | null }>(
            'SELECT id, amount::int AS amount, jf_ts(expires_at) AS expires_at FROM lot WHERE entry_id = $1 ORDER BY id',
            [entryIn],
          )
        : [];
      const lots = m.transfer(from, to, points, now, entryIn, (part) => {
        const i = created.findIndex((c) => c.amount === part.amount && c.expires_at === iso(part.expiresAt));
        if (i < 0) return `unmatched-${unique('lot')}`;
        return created.splice(i, 1)[0]!.id;
      });
      if (lots.length > 1) count('transfer: several lots');
      if (m.member(to).debt > 0 || w.ledger.member(to).debt > 0) count('transfer: to a member in debt');
      return (b) => {
        assert.deepEqual(pickBalance(b.from_balance), m.balance(from, now), 'from_balance in the response');
        assert.deepEqual(pickBalance(b.to_balance), m.balance(to, now), 'to_balance in the response');
      };
    });
  }
}

class Adjust extends Step {
  readonly m: number;
  readonly add: boolean;
  readonly points: number;
  readonly amount: Amount;
  constructor(m: number, add: boolean, points: number, amount: Amount) {
    super();
    this.m = m;
    this.add = add;
    this.points = points;
    this.amount = amount;
  }
  check() {
    return true;
  }
  toString() {
    return `adjust(m${this.m}, ${this.add ? `+${this.points}` : `-${showAmount(this.amount)}`})`;
  }
  exec(w: World, r: Real) {
    const member = pick(w.members, this.m);
    const points = this.add ? this.points : -resolveAmount(this.amount, w.ledger.available(member, w.now));
    return write(w, r, { op: 'adjust', member, body: { points, reason_code: 'correction' } }, (m, res, now) => {
      m.adjust(member, points, now, { entryId: res?.entry?.id ?? '?', lotId: res?.lot?.id ?? '?' });
    });
  }
}

/** Writes whose idempotency key the sweep has not purged yet. */
const retained = (w: Readonly<World>) => w.writes.filter((x) => x.createdAt >= w.purgedBefore);

class Replay extends Step {
  readonly i: number;
  readonly same: boolean;
  constructor(i: number, same: boolean) {
    super();
    this.i = i;
    this.same = same;
  }
  check(w: Readonly<World>) {
    return retained(w).length > 0;
  }
  toString() {
    return `replay(write#${this.i}, ${this.same ? 'same payload' : 'different payload'})`;
  }
  async exec(w: World, r: Real) {
    const rec = pick(retained(w), this.i);
    const now = r.clock.now();
    count(`replay ${this.same ? 'same' : 'different'}`);
    if (this.same) {
      const result = await send(r.db, rec.call, { now, actor: 'model-test', idempotency: { scope: r.programId, key: rec.key, hash: rec.hash } });
      assert.equal(result.replayed, true, `replay of ${rec.call.op} ${rec.key} is marked replayed`);
      assert.equal(result.status, rec.status);
      assert.deepEqual(result.body, rec.body, 'a replay returns the identical body');
    } else {
      const call = altered(rec.call);
      await assert.rejects(
        send(r.db, call, { now, actor: 'model-test', idempotency: { scope: r.programId, key: rec.key, hash: hashOf(call) } }),
        (err: unknown) => err instanceof DomainError && err.code === 'IDEMPOTENCY_KEY_REUSED',
        'the same key with another payload is IDEMPOTENCY_KEY_REUSED',
      );
    }
    await verify(w, r);
  }
}

class Advance extends Step {
  readonly ms: number;
  constructor(ms: number) {
    super();
    this.ms = ms;
  }
  check() {
    return true;
  }
  toString() {
    const ms = this.ms;
    return `advance(${ms >= DAY_MS ? `${(ms / DAY_MS).toFixed(2)}d` : ms >= HOUR_MS ? `${(ms / HOUR_MS).toFixed(2)}h` : `${ms / 1000}s`})`;
  }
  async exec(w: World, r: Real) {
    r.clock.advance(this.ms);
    w.now += this.ms;
    await verify(w, r);
  }
}

/**
 * Moves the clock onto (or 1 ms either side of) one of the next instants where something changes by
 * itself, preferably one of the given kind.
 */
class AdvanceToEvent extends Step {
  readonly kind: EventKind | 'any';
  readonly i: number;
  readonly offset: -1 | 0 | 1;
  constructor(kind: EventKind | 'any', i: number, offset: -1 | 0 | 1) {
    super();
    this.kind = kind;
    this.i = i;
    this.offset = offset;
  }
  check(w: Readonly<World>) {
    return w.ledger.events(w.now).length > 0;
  }
  toString() {
    return `advanceToEvent(${this.kind} #${this.i}${this.offset === 0 ? '' : this.offset > 0 ? ' +1ms' : ' -1ms'})`;
  }
  async exec(w: World, r: Real) {
    const all = w.ledger.events(w.now);
    const ofKind = all.filter((e) => e.kind === this.kind);
    const events = ofKind.length > 0 ? ofKind : all;
    const target = Math.max(w.now, events[this.i % Math.min(events.length, 3)]!.at + this.offset);
    r.clock.advance(target - w.now);
    w.now = target;
    await verify(w, r);
  }
}

class Sweep extends Step {
  check() {
    return true;
  }
  toString() {
    return 'sweep()';
  }
  async exec(w: World, r: Real) {
    await ledger.sweep(r.db, r.clock.now());
    const done = w.ledger.sweep(w.now);
    count(`sweep ${done.holdsReleased > 0 ? 'releases holds' : ''}${done.lotsExpired > 0 ? ' expires lots' : ''}`);
    w.purgedBefore = Math.max(w.purgedBefore, w.now - IDEMPOTENCY_RETENTION_MS);
    await verify(w, r);
  }
}

class SetStatus extends Step {
  readonly m: number;
  readonly status: MemberStatus;
  constructor(m: number, status: MemberStatus) {
    super();
    this.m = m;
    this.status = status;
  }
  check() {
    return true;
  }
  toString() {
    return `${this.status === 'frozen' ? 'freeze' : 'unfreeze'}(m${this.m})`;
  }
  async exec(w: World, r: Real) {
    const member = pick(w.members, this.m);
    await setMemberStatus(r.db, member, this.status, 'model test', r.clock.now());
    w.ledger.setStatus(member, this.status, w.now);
    await verify(w, r);
  }
}

// ---- generators ---------------------------------------------------------------------------------

const memberArb = fc.nat({ max: 2 });
const preferOpenArb = fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });

const earnArb = fc
  .tuple(
    memberArb,
    fc.integer({ min: 1, max: 500 }),
    fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 3, 7, 30, 45, 62) }),
  )
  .map(([m, points, pending]) => new Earn(m, points, pending));
const spendArb = fc.tuple(memberArb, amountArb).map(([m, a]) => new Spend(m, a));
const holdArb = fc
  .tuple(
    memberArb,
    amountArb,
    fc.oneof(
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 3600 }) },
      { weight: 2, arbitrary: fc.integer({ min: 3600, max: 5 * 86_400 }) },
      // long holds, so that lots expire while their points are held
      { weight: 1, arbitrary: fc.integer({ min: 5 * 86_400, max: 30 * 86_400 }) },
    ),
  )
  .map(([m, a, s]) => new Hold(m, a, s));
const captureArb = fc
  .tuple(
    fc.nat(),
    preferOpenArb,
    fc.oneof(
      { weight: 2, arbitrary: fc.constant<CaptureMode>({ mode: 'omit' }) },
      { weight: 1, arbitrary: fc.constant<CaptureMode>({ mode: 'full' }) },
      { weight: 4, arbitrary: fc.integer({ min: 1, max: 99 }).map((percent): CaptureMode => ({ mode: 'partial', percent })) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 10 }).map((extra): CaptureMode => ({ mode: 'over', extra })) },
    ),
  )
  .map(([i, open, how]) => new Capture(i, open, how));
const voidArb = fc.tuple(fc.nat(), preferOpenArb).map(([i, open]) => new Void(i, open));
const reverseArb = fc
  .tuple(
    fc.nat(),
    fc.oneof(
      { weight: 2, arbitrary: fc.constant<ReverseMode>({ mode: 'whole' }) },
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 100 }).map((percent): ReverseMode => ({ mode: 'partial', percent })) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }).map((extra): ReverseMode => ({ mode: 'over', extra })) },
    ),
  )
  .map(([i, how]) => new Reverse(i, how));
// to: another member (offset 1 or 2 from the sender), rarely the sender itself (TRANSFER_TO_SELF)
const transferArb = fc
  .tuple(memberArb, fc.oneof({ weight: 12, arbitrary: fc.constantFrom(1, 2) }, { weight: 1, arbitrary: fc.constant(0) }), amountArb)
  .map(([a, d, x]) => new Transfer(a, d, x));
const adjustArb = fc.tuple(memberArb, fc.boolean(), fc.integer({ min: 1, max: 300 }), amountArb).map(([m, add, p, a]) => new Adjust(m, add, p, a));
const replayArb = fc
  .tuple(fc.nat(), fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }))
  .map(([i, same]) => new Replay(i, same));
// odd milliseconds so that instants do not all fall on whole seconds
const advanceArb = fc
  .oneof(
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 7200 }).map((s) => s * 1000) },
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 48 }).map((h) => h * HOUR_MS + 17) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 10 }).map((d) => d * DAY_MS - 3) },
    { weight: 1, arbitrary: fc.integer({ min: 11, max: 45 }).map((d) => d * DAY_MS) },
    { weight: 1, arbitrary: fc.integer({ min: 46, max: 120 }).map((d) => d * DAY_MS + 1) },
  )
  .map((ms) => new Advance(ms));
const advanceToEventArb = fc
  .tuple(fc.constantFrom<EventKind | 'any'>('any', 'available', 'expiry', 'held-expiry', 'hold-deadline'), fc.nat(), fc.constantFrom<-1 | 0 | 1>(-1, 0, 1))
  .map(([kind, i, o]) => new AdvanceToEvent(kind, i, o));
const sweepArb = fc.constant(new Sweep());
const statusArb = fc.tuple(memberArb, fc.constantFrom<MemberStatus>('frozen', 'active', 'active')).map(([m, s]) => new SetStatus(m, s));

/** fc.commands picks uniformly among its arbitraries: repeat one to make it more frequent. */
const times = <T>(n: number, arb: fc.Arbitrary<T>): fc.Arbitrary<T>[] => Array.from({ length: n }, () => arb);
const commandArbs: fc.Arbitrary<Step>[] = [
  ...times(4, earnArb),
  ...times(2, spendArb),
  ...times(3, holdArb),
  ...times(4, captureArb),
  ...times(2, voidArb),
  ...times(3, reverseArb),
  ...times(2, transferArb),
  ...times(1, adjustArb),
  ...times(2, replayArb),
  ...times(3, advanceArb),
  ...times(2, advanceToEventArb),
  ...times(2, sweepArb),
  ...times(1, statusArb),
];

const expiryPolicyArb: fc.Arbitrary<ExpiryPolicy> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(1, 1, 2, 3, 6, 12).map((months): ExpiryPolicy => ({ type: 'rolling', months })) },
  { weight: 1, arbitrary: fc.constant<ExpiryPolicy>({ type: 'never' }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('month' as const, 'quarter' as const, 'year' as const), fc.integer({ min: 0, max: 1 }))
      .map(([unit, offset]): ExpiryPolicy => ({ type: 'end_of_period', unit, offset })),
  },
);

const rulesArb: fc.Arbitrary<ProgramRules> = fc.record({
  expiryPolicy: expiryPolicyArb,
  pendingDays: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 14 }) }),
  negativeBalancePolicy: fc.constantFrom('write_off' as const, 'allow_negative' as const),
  holdTimeoutSeconds: fc.integer({ min: 60, max: 3 * 86_400 }),
});

/** Where the run's clock starts: anywhere in 2026–2027, often on the last days of a month (month arithmetic). */
const startArb = fc.oneof(
  fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2028, 0, 1) }),
  fc
    .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: DAY_MS - 1 }))
    .map(([month, back, ms]) => Date.UTC(2026, month + 1, 1) - (back + 1) * DAY_MS + ms),
);

// ---- the suite ----------------------------------------------------------------------------------

forEachDatabase('ledger model', (getDb, kind) => {
  const RUNS = runsOn(kind);
  it(`agrees with the reference model (${RUNS} runs of up to ${MAX_COMMANDS} commands)`, async () => {
    const { db } = getDb();
    const property = fc.asyncProperty(
      rulesArb,
      fc.integer({ min: 2, max: 3 }),
      startArb,
      // an opening credit per member, so that the commands have points to work with
      fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 3, maxLength: 3 }),
      fc.commands(commandArbs, { maxCommands: MAX_COMMANDS, size: 'max', replayPath: REPLAY_PATH }),
      async (rules, memberCount, start, opening, cmds) => {
        const clock = new ManualClock(new Date(start));
        const program = await makeProgram(db, clock.now(), {
          name: 'Model program',
          time_zone: 'UTC',
          expiry_policy: rules.expiryPolicy,
          pending_days: rules.pendingDays,
          negative_balance_policy: rules.negativeBalancePolicy,
          hold_timeout_seconds: rules.holdTimeoutSeconds,
        });
        const members: string[] = [];
        for (let i = 0; i < memberCount; i += 1) members.push((await makeMember(db, program.id, clock.now())).id);
        const world: World = { ledger: new LedgerModel(rules, members), now: start, members, writes: [], purgedBefore: -Infinity };
        const real: Real = { db, clock, programId: program.id, members };
        const openingCredits = opening.slice(0, memberCount).map((points, m) => new Earn(m, points, undefined));
        await fc.asyncModelRun(() => ({ model: world, real }), [...openingCredits, ...cmds]);
      },
    );
    stats.clear();
    await fc.assert(property, { numRuns: RUNS, seed: SEED, path: PATH });
    if (process.env.JIFEN_MODEL_STATS)
      console.log(
        [...stats]
          .sort()
          .map(([k, n]) => `${k}: ${n}`)
          .join('\n'),
      );
  });
});
