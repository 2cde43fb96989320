import type { Queryable } from '../../db/db.ts';
import * as repo from './audit.repository.ts';

/** A JSON number when it carries the value exactly (|x| ≤ 2^53 − 1), else the decimal digits as a string. */
export type ExactInteger = number | string;

export interface AccountTotal {
  program_id: string;
  account: string;
  balance: ExactInteger;
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
export function exactInteger(x: bigint): ExactInteger {
  return x >= -SAFE && x <= SAFE ? Number(x) : x.toString();
}

export interface AuditReport {
  object: 'audit';
  ok: boolean;
  program_id: string | null;
  checked: { members: number; lots: number; entries: number; holds: number };
  violations: repo.Violation[];
  /** Per program: each account's balance from the entries. System accounts show the economics. */
  accounts: AccountTotal[];
  as_of: string;
}

/**
 * Proves the ledger whole: per member, balance = entries = lots; held = entries = holds = lots;
 * every lot adds up and none is negative; every transfer clears; and globally the ledger sums to
 * zero with the stored member balances equal to the member accounts of the entries, and the
 * dashboard rollups equal the system accounts' balances.
 */
export async function runAudit(db: Queryable, now: Date, programId: string | null = null): Promise<AuditReport> {
  const [members, lots, accounts, stored, checked, rollups] = await Promise.all([
    repo.memberViolations(db, programId),
    repo.lotAndHoldViolations(db, programId),
    repo.accountBalances(db, programId),
    repo.storedTotals(db, programId),
    repo.counts(db, programId),
    repo.rollupTotals(db, programId),
  ]);
  const violations = [...members, ...lots];
  // exact whatever the sums: BigInt here, numeric in SQL
  const balances = accounts.map((a) => ({ ...a, exact: BigInt(a.balance) }));
  const programs = new Set([...accounts.map((a) => a.program_id), ...stored.map((s) => s.program_id), ...rollups.map((r) => r.program_id)]);
  for (const program of programs) {
    const of = (account: string) => balances.find((a) => a.program_id === program && a.account === account)?.exact ?? 0n;
    const sum = balances.filter((a) => a.program_id === program).reduce((s, a) => s + a.exact, 0n);
    const totals = stored.find((s) => s.program_id === program);
    const storedBalance = BigInt(totals?.balance ?? 0);
    const storedHeld = BigInt(totals?.held ?? 0);
    if (sum !== 0n) violations.push({ check: 'ledger_sums_to_zero', member_id: null, detail: { program_id: program, sum: exactInteger(sum) } });
    // the dashboard rollups, summed over all days, are the system accounts' balances (the sign of an
    // account that gives points, like issued, turned round)
    const r = rollups.find((x) => x.program_id === program);
    const rollup = (k: Exclude<keyof repo.RollupTotals, 'program_id'>) => BigInt(r?.[k] ?? 0);
    const expected = {
      issued: -of('issued'),
      redeemed: of('redeemed'),
      expired: of('expired'),
      reversed: of('reversed'),
      adjusted: -of('adjusted'),
      written_off: -of('written_off'),
      forfeited: of('forfeited'),
    };
    const wrong = Object.entries(expected).filter(([k, v]) => rollup(k as keyof typeof expected) !== v);
    if (wrong.length) {
      violations.push({
        check: 'rollups_equal_entries',
        member_id: null,
        detail: {
          program_id: program,
          ...Object.fromEntries(wrong.map(([k, v]) => [k, { rollups: exactInteger(rollup(k as keyof typeof expected)), entries: exactInteger(v) }])),
        },
      });
    }
    if (of('member') !== storedBalance || of('member_held') !== storedHeld) {
      violations.push({
        check: 'stored_balances_equal_member_accounts',
        member_id: null,
        detail: {
          program_id: program,
          stored_balance: exactInteger(storedBalance),
          member_account: exactInteger(of('member')),
          stored_held: exactInteger(storedHeld),
          member_held_account: exactInteger(of('member_held')),
        },
      });
    }
  }
  return {
    object: 'audit',
    ok: violations.length === 0,
    program_id: programId,
    checked,
    violations,
    accounts: balances.map((a) => ({ program_id: a.program_id, account: a.account, balance: exactInteger(a.exact) })),
    as_of: now.toISOString(),
  };
}

/** Human-readable lines for the CLI. */
export function formatAudit(report: AuditReport): string {
  const c = report.checked;
  const scope = report.program_id ? `program ${report.program_id}` : 'all programs';
  const lines = [`Audit of ${scope}: ${c.members} members, ${c.lots} lots, ${c.entries} entries, ${c.holds} holds.`];
  if (report.ok) {
    lines.push(
      'All invariants hold: balance = entries = lots for every member, held = holds, every lot adds up, transfers clear, the ledger sums to zero, rollups = entries.',
    );
  } else {
    lines.push(`${report.violations.length} violation(s):`);
    for (const v of report.violations) lines.push(`  ${v.check}${v.member_id ? ` member ${v.member_id}` : ''}: ${JSON.stringify(v.detail)}`);
  }
  for (const a of report.accounts) lines.push(`  ${a.program_id} ${a.account.padEnd(12)} ${String(a.balance).padStart(14)}`);
  return lines.join('\n');
}
