/**
 * The catalogue engine alone (src/modules/rewards/rewards.engine.ts): the order of precedence of
 * the states, flash-sale hours in a time zone (the next opening across the week's end, 24:00, a
 * daylight-saving change), a window that ends before the sale hours come again, and the
 * within-reach ranking.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalogueState, type MemberFacts, nextScheduleStart, type RewardFacts, rankWithinReach, scheduleOpen } from '../src/modules/rewards/index.ts';

const reward = (r: Partial<RewardFacts> = {}): RewardFacts => ({
  type: 'physical',
  points_cost: 100,
  stock_left: null,
  codes_left: null,
  available_from: null,
  available_until: null,
  schedule: null,
  limit_per_member: null,
  min_tier: null,
  segment_id: null,
  ...r,
});
const member = (m: Partial<MemberFacts> = {}): MemberFacts => ({ available_points: 1000, tier_rank: 0, required_rank: null, in_segment: false, used: 0, ...m });
// a Monday, 10:00 in Shanghai
const NOW = new Date('2026-03-02T02:00:00.000Z');

describe('catalogueState', () => {
  it('says the first state that applies, in order', () => {
    const everything = reward({
      stock_left: 0,
      min_tier: 'gold',
      segment_id: 'seg_x',
      limit_per_member: 1,
      points_cost: 5000,
      available_from: '2026-03-05T00:00:00.000Z',
    });
    const m = member({ required_rank: 2, used: 1 });
    const state = (r: Partial<RewardFacts>, mm: Partial<MemberFacts> = {}) => catalogueState({ ...everything, ...r }, { ...m, ...mm }, NOW, 'UTC').state;
    assert.equal(state({}), 'not_yet');
    assert.equal(state({ available_until: '2026-03-01T00:00:00.000Z', available_from: null }), 'ended');
    assert.equal(state({ available_from: null }), 'sold_out');
    assert.equal(state({ available_from: null, stock_left: 1 }), 'locked_tier');
    assert.equal(state({ available_from: null, stock_left: 1 }, { tier_rank: 2 }), 'locked_segment');
    assert.equal(state({ available_from: null, stock_left: 1 }, { tier_rank: 2, in_segment: true }), 'limit_reached');
    assert.equal(state({ available_from: null, stock_left: 1 }, { tier_rank: 2, in_segment: true, used: 0 }), 'needs_points');
    assert.equal(state({ available_from: null, stock_left: 1, points_cost: 1000 }, { tier_rank: 2, in_segment: true, used: 0 }), 'can_redeem');
  });

  it('needs_points says how many more for one unit; a tier code the ladder no longer has locks', () => {
    assert.deepEqual(catalogueState(reward({ points_cost: 1250 }), member(), NOW, 'UTC'), {
      state: 'needs_points',
      needs_points: 250,
      required_tier: null,
      starts_at: null,
    });
    assert.equal(catalogueState(reward({ min_tier: 'gone' }), member({ tier_rank: 5, required_rank: null }), NOW, 'UTC').state, 'locked_tier');
    assert.equal(catalogueState(reward({ type: 'coupon', codes_left: 0 }), member(), NOW, 'UTC').state, 'sold_out');
    assert.equal(catalogueState(reward({ type: 'coupon', codes_left: 1 }), member(), NOW, 'UTC').state, 'can_redeem');
  });

  it('flash hours in the program time zone: not_yet with the next opening, or ended when the window closes first', () => {
    const schedule = { days: [1, 3], from: '09:00', until: '10:00' };
    // 10:00 Monday in Shanghai: just closed; next Wednesday 09:00 local = 01:00Z
    const v = catalogueState(reward({ schedule }), member(), NOW, 'Asia/Shanghai');
    assert.deepEqual([v.state, v.starts_at], ['not_yet', '2026-03-04T01:00:00.000Z']);
    assert.equal(catalogueState(reward({ schedule }), member(), new Date('2026-03-02T01:30:00.000Z'), 'Asia/Shanghai').state, 'can_redeem');
    assert.equal(catalogueState(reward({ schedule, available_until: '2026-03-04T00:00:00.000Z' }), member(), NOW, 'Asia/Shanghai').state, 'ended');
    // a window opening inside the hours opens at its start; outside them, at the next hours after it
    const inside = catalogueState(reward({ schedule, available_from: '2026-03-04T01:30:00.000Z' }), member(), NOW, 'Asia/Shanghai');
    assert.equal(inside.starts_at, '2026-03-04T01:30:00.000Z');
    const outside = catalogueState(reward({ schedule, available_from: '2026-03-04T05:00:00.000Z' }), member(), NOW, 'Asia/Shanghai');
    assert.equal(outside.starts_at, '2026-03-09T01:00:00.000Z');
  });
});

describe('schedule arithmetic', () => {
  it('24:00 closes at midnight; Sunday wraps to the next Monday', () => {
    const allDay = { days: [7], from: '00:00', until: '24:00' };
    assert.equal(scheduleOpen(allDay, new Date('2026-03-08T23:59:00.000Z'), 'UTC'), true);
    assert.equal(scheduleOpen(allDay, new Date('2026-03-09T00:00:00.000Z'), 'UTC'), false);
    assert.equal(
      nextScheduleStart({ days: [1], from: '08:00', until: '09:00' }, new Date('2026-03-08T12:00:00.000Z'), 'UTC')?.toISOString(),
      '2026-03-09T08:00:00.000Z',
    );
    // the same weekday, a week later, once today's hours have passed
    assert.equal(
      nextScheduleStart({ days: [1], from: '08:00', until: '09:00' }, new Date('2026-03-09T08:00:00.000Z'), 'UTC')?.toISOString(),
      '2026-03-16T08:00:00.000Z',
    );
  });

  it('local hours across a daylight-saving change (Europe/Berlin, 29 March 2026)', () => {
    const s = { days: [1], from: '09:00', until: '10:00' };
    // Monday 23 March 09:00 CET = 08:00Z; Monday 30 March 09:00 CEST = 07:00Z
    assert.equal(nextScheduleStart(s, new Date('2026-03-23T09:30:00.000Z'), 'Europe/Berlin')?.toISOString(), '2026-03-30T07:00:00.000Z');
    assert.equal(scheduleOpen(s, new Date('2026-03-30T07:30:00.000Z'), 'Europe/Berlin'), true);
    assert.equal(scheduleOpen(s, new Date('2026-03-30T08:30:00.000Z'), 'Europe/Berlin'), false);
  });
});

describe('rankWithinReach', () => {
  it('keeps can_redeem and needs_points, ranks by affordability plus affinity, the cheaper first on a tie', () => {
    const items = [
      { id: 'rwd_a', state: 'can_redeem' as const, points_cost: 100, category: 'tea' },
      { id: 'rwd_b', state: 'needs_points' as const, points_cost: 400, category: 'coffee' },
      { id: 'rwd_c', state: 'locked_tier' as const, points_cost: 1, category: 'coffee' },
      { id: 'rwd_d', state: 'can_redeem' as const, points_cost: 50, category: 'tea' },
      { id: 'rwd_e', state: 'sold_out' as const, points_cost: 1, category: null },
    ];
    const ranked = rankWithinReach(
      items,
      200,
      new Map([
        ['coffee', 3],
        ['tea', 1],
      ]),
      10,
    );
    assert.deepEqual(
      ranked.map((r) => [r.item.id, r.score]),
      [
        ['rwd_d', 1.25],
        ['rwd_a', 1.25],
        ['rwd_b', 1.25],
      ],
    );
    assert.deepEqual(
      rankWithinReach(items, 200, new Map(), 1).map((r) => r.item.id),
      ['rwd_d'],
    );
    assert.equal(rankWithinReach(items, -5, new Map(), 10)[0]!.affordability, 0, 'a member in debt affords nothing');
  });
});
