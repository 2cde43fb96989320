import assert from 'node:assert/strict';
import { it } from 'node:test';
import { awardsOfRule } from '../src/modules/events/index.ts';
import { backfillAwards } from '../src/modules/rules/rules.repository.ts';
import { forEachDatabase } from './helpers/db.ts';

/** What rules' backfill copied before the events module read the awards for it: one statement over event. */
const ONE_STATEMENT = `
  SELECT e.program_id, e.member_id, a->>'rule_id' AS rule_id, (a->>'rule_version')::integer AS rule_version, e.id AS event_id,
         a->>'entry_id' AS entry_id, (a->>'points')::bigint AS points, e.occurred_at AS awarded_at
    FROM event e CROSS JOIN LATERAL json_array_elements(e.result::json->'awards') a
   WHERE e.program_id = $1 AND a->>'rule_id' = $2 AND (a->>'points')::bigint > 0`;

forEachDatabase("rules: backfilling a rule's past awards", (getDb) => {
  it('copies the same awards as one statement over the events would, read page by page', async () => {
    const { db } = getDb();
    const award = (rule: string, points: number, entry: string, version = 1) => ({ rule_id: rule, rule_version: version, points, entry_id: entry });
    // [external id, member, occurred_at (microseconds), awards | no awards key]
    const events: [string, string, string, object[] | null][] = [
      ['e-07', 'mbr_a', '2026-03-01 10:00:00.123456+00', [award('rul_x', 10, 'ent_1'), award('rul_y', 5, 'ent_2')]],
      ['e-01', 'mbr_b', '2026-03-02 10:00:00.000001+00', [award('rul_x', 10, 'ent_3', 2)]],
      ['e-03', 'mbr_a', '2026-03-03 10:00:00+00', [award('rul_x', 0, 'ent_4')]],
      ['e-02', 'mbr_c', '2026-03-04 10:00:00+00', null],
      ['e-05', 'mbr_c', '2026-03-05 10:00:00+00', [award('rul_y', 7, 'ent_5')]],
      ['e-04', 'mbr_b', '2026-03-06 10:00:00.5+00', [award('rul_x', 9_007_199_254_740_991, 'ent_6'), award('rul_x', 3, 'ent_7')]],
      ['e-06', 'mbr_a', '2026-03-07 10:00:00+00', [award('rul_x', -4, 'ent_8')]],
      ['e-08', 'mbr_d', '2026-03-08 10:00:00+00', [award('rul_x', 1, 'ent_9')]],
    ];
    for (const [program, prefix] of [
      ['prg_backfill', 'evt_'],
      ['prg_other', 'evt_o'],
    ] as const) {
      for (const [external, member, at, awards] of events) {
        await db.query(
          `INSERT INTO event (id, program_id, external_id, type, member_id, occurred_at, processed_at, data, points, result)
           VALUES ($1, $2, $3, 'checkin', $4, $5::timestamptz, now(), '{}', 0, $6)`,
          [`${prefix}${external}`, program, external, member, at, JSON.stringify(awards ? { awards, skipped: [] } : { skipped: [] })],
        );
      }
    }
    const sorted = <T extends { event_id: string; entry_id: string }>(rows: T[]) =>
      [...rows].sort((a, b) => `${a.event_id} ${a.entry_id}`.localeCompare(`${b.event_id} ${b.entry_id}`));
    const expected = sorted(
      await db.query<{ event_id: string; entry_id: string }>(
        `SELECT program_id, member_id, rule_id, rule_version, event_id, entry_id, points, awarded_at::text FROM (${ONE_STATEMENT}) x`,
        ['prg_backfill', 'rul_x'],
      ),
    );
    assert.equal(expected.length, 5);

    for (const pageEvents of [1, 2, 3, 5_000]) {
      const pages: number[] = [];
      await db.transaction(async (tx) => {
        await tx.query(`INSERT INTO rule_award (program_id, member_id, rule_id, rule_version, event_id, entry_id, points, awarded_at)
                        VALUES ('prg_backfill', 'mbr_a', 'rul_x', 1, 'evt_stale', 'ent_stale', 1, now())`);
        await backfillAwards(tx, 'prg_backfill', 'rul_x', async function* (q, programId, ruleId) {
          for await (const page of awardsOfRule(q, programId, ruleId, pageEvents)) {
            pages.push(page.length);
            yield page;
          }
        });
        const copied = await tx.query<{ event_id: string; entry_id: string }>(
          `SELECT program_id, member_id, rule_id, rule_version, event_id, entry_id, points, awarded_at::text FROM rule_award WHERE rule_id = 'rul_x'`,
        );
        assert.deepEqual(
          sorted(copied).map((r) => ({ ...r })),
          expected.map((r) => ({ ...r })),
          `pages of ${pageEvents} events`,
        );
      });
      assert.equal(
        pages.reduce((a, b) => a + b, 0),
        5,
      );
      if (pageEvents === 1) assert.deepEqual(pages, [1, 2, 1, 1], 'one event a page: those without awards of the rule yield nothing');
      if (pageEvents === 5_000) assert.deepEqual(pages, [5]);
    }
  });
});
