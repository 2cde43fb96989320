import type { Queryable } from '../../db/db.ts';
import * as repo from './audit.repository.ts';

export interface AuditReport {
  object: 'audit';
  ok: boolean;
  program_id: string | null;
  checked: { members: number; lots: number; entries: number; holds: number };
  violations: repo.Violation[];
  /** Per programme: each account's balance from the entries. System accounts show the economics. */
  accounts: repo.AccountBalance[];
  as_of: string;
}

/**
 * Proves the ledger whole: per member, balance = entries = lots; held = entries = holds = lots;
 * every lot adds up and none is negative; every transfer clears; and globally the ledger sums to
 * zero with the stored member balances equal to the member accounts of the entries.
 */
export async function runAudit(db: Queryable, now: Date, programId: string | null = null): Promise<AuditReport> {
  const [members, lots, accounts, stored, checked] = await Promise.all([
    repo.memberViolations(db, programId),
    repo.lotAndHoldViolations(db, programId),
    repo.accountBalances(db, programId),
    repo.storedTotals(db, programId),
    repo.counts(db, programId),
  ]);
  const violations = [...members, ...lots];
  const programs = new Set([...accounts.map((a) => a.program_id), ...stored.map((s) => s.program_id)]);
  for (const program of programs) {
    const of = (account: string) => accounts.find((a) => a.program_id === program && a.account === account)?.balance ?? 0;
    const sum = accounts.filter((a) => a.program_id === program).reduce((s, a) => s + a.balance, 0);
    const totals = stored.find((s) => s.program_id === program) ?? { balance: 0, held: 0 };
    if (sum !== 0) violations.push({ check: 'ledger_sums_to_zero', member_id: null, detail: { program_id: program, sum } });
    if (of('member') !== totals.balance || of('member_held') !== totals.held) {
      violations.push({
        check: 'stored_balances_equal_member_accounts',
        member_id: null,
        detail: { program_id: program, stored_balance: totals.balance, member_account: of('member'), stored_held: totals.held, member_held_account: of('member_held') },
      });
    }
  }
  return { object: 'audit', ok: violations.length === 0, program_id: programId, checked, violations, accounts, as_of: now.toISOString() };
}

/** Human-readable lines for the CLI. */
export function formatAudit(report: AuditReport): string {
  const c = report.checked;
  const scope = report.program_id ? `programme ${report.program_id}` : 'all programmes';
  const lines = [`Audit of ${scope}: ${c.members} members, ${c.lots} lots, ${c.entries} entries, ${c.holds} holds.`];
  if (report.ok) {
    lines.push('All invariants hold: balance = entries = lots for every member, held = holds, every lot adds up, transfers clear, the ledger sums to zero.');
  } else {
    lines.push(`${report.violations.length} violation(s):`);
    for (const v of report.violations) lines.push(`  ${v.check}${v.member_id ? ` member ${v.member_id}` : ''}: ${JSON.stringify(v.detail)}`);
  }
  for (const a of report.accounts) lines.push(`  ${a.program_id} ${a.account.padEnd(12)} ${String(a.balance).padStart(14)}`);
  return lines.join('\n');
}
