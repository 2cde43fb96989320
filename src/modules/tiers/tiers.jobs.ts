import type { Queryable } from '../../db/db.ts';

/** What one run of the tier jobs did (docs/tiers.md, "Jobs"). */
export interface TierJobReport {
  reviewed: number;
  downgraded: number;
  renewed: number;
  at_risk: number;
  overrides_ended: number;
  grants: number;
  grant_points: number;
}

/** Members a review call takes in one transaction: large enough to amortise the round trip, small enough to hold few locks for long. */
export const REVIEW_BATCH = 5_000;
const GRANT_BATCH = 2_000;

/** Connections the review uses side by side (each takes the members whose id hashes to its part). */
export const REVIEW_PARTS = 2;

interface ReviewBatch {
  candidates: number;
  reviewed: number;
  downgraded: number;
  renewed: number;
  last_at: string | null;
  last_id: string | null;
}

/**
 * The reviews due (review_at <= now), batch after batch, each its own transaction (tiers_review:
 * set-based, members locked in id order with SKIP LOCKED, so instances share the work and a member
 * one is reviewing is left to it), on `parts` connections side by side, each over its own share of
 * the members, walking them with a cursor (the last member a batch looked at). A batch that
 * committed is done: a run killed half-way and run again reviews only the members still due.
 */
export async function reviewDue(
  db: Queryable,
  now: Date,
  batch = REVIEW_BATCH,
  parts = REVIEW_PARTS,
): Promise<Pick<TierJobReport, 'reviewed' | 'downgraded' | 'renewed'>> {
  const total = { reviewed: 0, downgraded: 0, renewed: 0 };
  await Promise.all(
    Array.from({ length: parts }, async (_, part) => {
      // each batch starts after the last member the part's previous batch looked at
      let after: { at: string | null; id: string | null } = { at: null, id: null };
      for (;;) {
        const [row] = await db.query<{ r: ReviewBatch }>('SELECT tiers_review($1, $2, $3, $4, $5, $6) AS r', [
          now.toISOString(),
          batch,
          part,
          parts,
          after.at,
          after.id,
        ]);
        const r = row!.r;
        total.reviewed += r.reviewed;
        total.downgraded += r.downgraded;
        total.renewed += r.renewed;
        // fewer candidates than a batch: nothing more is due in this part (a member skipped because
        // another writer held it is still due: the next run reviews it)
        if (r.candidates < batch) return;
        after = { at: r.last_at, id: r.last_id };
      }
    }),
  );
  return total;
}

/** tier.at_risk for members whose review is within 30 days and who are below retention, once per review. */
export async function flagAtRisk(db: Queryable, now: Date, batch = REVIEW_BATCH): Promise<number> {
  let flagged = 0;
  for (;;) {
    const [row] = await db.query<{ r: { looked: number; flagged: number } }>('SELECT tiers_at_risk($1, $2) AS r', [now.toISOString(), batch]);
    flagged += row!.r.flagged;
    if (row!.r.looked < batch) return flagged;
  }
}

/** Overrides whose end has come: the member back at its earned tier (tier.override_ended). */
export async function endOverrides(db: Queryable, now: Date, batch = REVIEW_BATCH): Promise<number> {
  let total = 0;
  for (;;) {
    const [row] = await db.query<{ n: number }>('SELECT tiers_end_overrides($1, $2) AS n', [now.toISOString(), batch]);
    total += row!.n;
    if (row!.n < batch) return total;
  }
}

/**
 * Birthday points and periodic grants of every program with a ladder, members in id order, a
 * batch a transaction (tiers_grant): a grant is recorded in tier_grant (its primary key: member,
 * grant, period) before it is credited, in the same transaction, so reruns and other instances
 * grant nothing twice; a member locked by another writer gets its grant on a later run of the period.
 */
export async function grantBenefits(db: Queryable, now: Date, batch = GRANT_BATCH): Promise<Pick<TierJobReport, 'grants' | 'grant_points'>> {
  const total = { grants: 0, grant_points: 0 };
  const programs = await db.query<{ program_id: string }>(
    `SELECT l.program_id FROM tier_ladder l
      WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(l.tiers) t
                     WHERE coalesce((t->>'birthday_points')::bigint, 0) > 0 OR jsonb_array_length(coalesce(t->'grants', '[]')) > 0)
      ORDER BY l.program_id`,
  );
  for (const { program_id } of programs) {
    let after: string | null = null;
    for (;;) {
      const rows: { r: GrantRun }[] = await db.query<{ r: GrantRun }>('SELECT tiers_grant($1, $2, $3, $4) AS r', [program_id, now.toISOString(), after, batch]);
      const r: GrantRun = rows[0]!.r;
      total.grants += r.granted;
      total.grant_points += Number(r.points);
      if (r.members < batch || r.last === null) break;
      after = r.last;
    }
  }
  return total;
}

interface GrantRun {
  members: number;
  last: string | null;
  granted: number;
  points: number;
}

/** Every tier job once: reviews, at-risk warnings, ended overrides, then grants. */
export async function runTierJobs(db: Queryable, now: Date): Promise<TierJobReport> {
  const review = await reviewDue(db, now);
  const atRisk = await flagAtRisk(db, now);
  const overrides = await endOverrides(db, now);
  const grants = await grantBenefits(db, now);
  return { ...review, at_risk: atRisk, overrides_ended: overrides, ...grants };
}
