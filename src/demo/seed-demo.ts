import type { Db } from '../db/db.ts';
import * as ledger from '../modules/ledger/index.ts';
import { createMember } from '../modules/members/index.ts';
import { createRule } from '../modules/rules/index.ts';

export const DEMO_PROGRAM_ID = 'prg_demo';

/**
 * A small coffee-chain program so a fresh install has something to look at: points expire 12
 * months after earning, order points are pending for 7 days (the return window), 100 points = ¥1.
 * Only runs on a database without programs.
 */
export async function seedDemo(db: Db, now: Date): Promise<boolean> {
  const [{ n }] = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM program')) as [{ n: number }];
  if (n > 0) return false;
  await db.query(
    `INSERT INTO program (id, name, time_zone, currency, point_name, expiry_policy, pending_days, negative_balance_policy,
                          redemption_rate, hold_timeout_seconds, metadata, created_at, updated_at)
     VALUES ($1, '积分咖啡 Jifen Coffee', 'Asia/Shanghai', 'CNY', '积分', '{"type":"rolling","months":12}', 7, 'write_off',
             100, 900, '{"demo": true}', $2, $2)`,
    [DEMO_PROGRAM_ID, now.toISOString()],
  );
  // the seed articles' coffee chain: ¥1 = 1 point, gold members 1.5×
  await createRule(
    db,
    DEMO_PROGRAM_ID,
    {
      definition: {
        name: '消费积分',
        triggers: ['order.paid'],
        effect: { type: 'rate', points: 1, per_amount: 100, rounding: 'floor' },
        multipliers: [{ type: 'tier', values: { silver: '1', gold: '1.5' }, labels: { silver: '银卡', gold: '金卡' } }],
      },
    },
    now,
    'demo seed',
  );
  await createRule(
    db,
    DEMO_PROGRAM_ID,
    {
      definition: { name: '每日签到', triggers: ['checkin'], effect: { type: 'fixed', points: 5 }, frequency: { max: 1, per: 'day' } },
    },
    now,
    'demo seed',
  );
  const people = [
    { external_id: 'demo-lin', name: '林小雨', phone: '+8613800000001', tier: 'gold', tags: ['coffee-lover'] },
    { external_id: 'demo-zhao', name: '赵子墨', phone: '+8613800000002', tier: 'silver', tags: [] },
    { external_id: 'demo-chen', name: '陈一一', phone: '+8613800000003', tags: [] },
  ];
  const ctx = (key: string) => ({ now, actor: 'demo seed', idempotency: { scope: 'demo', key, hash: key } });
  for (const person of people) {
    const { body: member } = await createMember(db, DEMO_PROGRAM_ID, person, now);
    // an older purchase, already past its return window
    await ledger.credit(
      db,
      member.id,
      { points: 1500, reason: '消费 ¥100 × 1.5 (金卡)', reference: `order-${person.external_id}-1`, pending_days: 0 },
      ctx(`${member.id}-1`),
    );
    // a recent purchase still in its 7-day return window
    await ledger.credit(db, member.id, { points: 320, reason: '消费 ¥32', reference: `order-${person.external_id}-2` }, ctx(`${member.id}-2`));
    await ledger.debit(db, member.id, { points: 500, reason: '兑换 中杯拿铁', reference: `redeem-${person.external_id}-1` }, ctx(`${member.id}-3`));
  }
  return true;
}
