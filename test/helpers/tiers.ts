import type { Queryable } from '../../src/db/db.ts';

/** A ladder as stored (tier_ladder), for tests that write one straight into the table (the ladder API has its own tests). */
export interface StoredLadder {
  metric?: 'spend' | 'points' | 'orders';
  window: Record<string, unknown>;
  validity: Record<string, unknown>;
  policy?: 'one_step' | 'requalify' | 'never';
  rate?: 'old' | 'new';
  /** normalized tiers (retention, multiplier, points, grants and perks filled in) */
  tiers: unknown[];
}

export async function insertLadder(db: Queryable, programId: string, l: StoredLadder, now: Date): Promise<void> {
  await db.query(
    `INSERT INTO tier_ladder (program_id, metric, qualifying_window, validity, downgrade_policy, grace_days, upgrade_event_rate, tiers, created_at, updated_at)
     VALUES ($1, $2, $3::text::jsonb, $4::text::jsonb, $5, 0, $6, $7::text::jsonb, $8, $8)`,
    [
      programId,
      l.metric ?? 'spend',
      JSON.stringify(l.window),
      JSON.stringify(l.validity),
      l.policy ?? 'one_step',
      l.rate ?? 'old',
      JSON.stringify(l.tiers),
      now.toISOString(),
    ],
  );
}
