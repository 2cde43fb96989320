import type { Queryable } from '../../db/db.ts';
import type { PastAward } from '../rules/index.ts';

/** Events read per page: a range of the (program_id, external_id) key, each result parsed once. */
const PAGE_EVENTS = 5_000;

/**
 * The awards of a rule in the program's events' stored results (those of positive points), page by
 * page: what rules copies into rule_award when the rule gets its first per-member limit (its
 * reviseRule is handed this function). Pages follow the events' external ids, so each is one range
 * of the unique key and the whole read is bounded in memory however many events the program has;
 * read in one transaction in which no event of the program commits (rules holds the revision lock),
 * the pages add up to what one statement would read.
 */
export async function* awardsOfRule(db: Queryable, programId: string, ruleId: string, pageEvents = PAGE_EVENTS): AsyncGenerator<PastAward[]> {
  let after = '';
  for (;;) {
    const [page] = await db.query<{ last: string | null; awards: PastAward[] | null }>(
      `WITH page AS (
         SELECT id, member_id, occurred_at, result, external_id FROM event
          WHERE program_id = $1 AND external_id > $2 ORDER BY external_id LIMIT $4
       )
       SELECT (SELECT max(external_id) FROM page) AS last,
              (SELECT json_agg(json_build_object(
                        'member_id', e.member_id, 'rule_version', (a->>'rule_version')::integer, 'event_id', e.id,
                        'entry_id', a->>'entry_id', 'points', (a->>'points')::bigint, 'awarded_at', e.occurred_at))
                 FROM page e CROSS JOIN LATERAL json_array_elements(e.result::json->'awards') a
                WHERE a->>'rule_id' = $3 AND (a->>'points')::bigint > 0) AS awards`,
      [programId, after, ruleId, pageEvents],
    );
    if (!page?.last) return;
    if (page.awards) yield page.awards;
    after = page.last;
  }
}
