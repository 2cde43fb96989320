/**
 * Issue 8, item 7: a program's time zone is used by PostgreSQL (expiry, cap periods by local day)
 * and by Node's Intl (the rule engine). Only names both know are accepted; a program that holds
 * another one (accepted by an earlier version) has its events refused with a clear 422, never 500.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { unique } from './helpers/factories.ts';
import { assertProblem, balance, createMember, createProgram, ok } from './http/support.ts';

const capped = { name: '签到', triggers: ['checkin'], effect: { type: 'fixed', points: 5 }, frequency: { max: 1, per: 'day' } };

forEachDatabase('time zones both sides agree on', (getDb, kind) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(getDb(), '2026-06-10T06:00:00.000Z');
  });
  after(() => t.close());

  const programCount = async () => Number((await getDb().db.query<{ n: number }>('SELECT count(*)::int AS n FROM program'))[0]!.n);
  const checkin = (programId: string, memberId: string, id = unique('chk')) =>
    t.call('POST', '/v1/events', { body: { id, type: 'checkin', program_id: programId, member_id: memberId, data: {} }, key: t.keys.integration });

  // PostgreSQL knows these (some only the server, not PGlite), Node's Intl does not, or they are not zone names at all
  const refused = [
    'Factory',
    'localtime',
    'posix/Asia/Shanghai',
    'right/UTC',
    'posixrules',
    '+08:00',
    '-05:00',
    'UTC+8',
    'CST-8',
    'EST5',
    'asia/shanghai',
    'Asia/Shanghai ',
    'Mars/Olympus_Mons',
    'Asia//Shanghai',
    '/UTC',
    'Asia/Shanghai/',
  ];

  it('refuses zones PostgreSQL and Intl do not both know by that name, at /time_zone, creating nothing', async () => {
    const before = await programCount();
    for (const time_zone of refused) {
      const res = await t.call('POST', '/v1/programs', { body: { name: 'P', time_zone } });
      assertProblem(res, 400, 'VALIDATION_FAILED', { path: '/time_zone' });
    }
    assert.equal(await programCount(), before);
  });

  it('refuses them on update too, leaving the program as it was', async () => {
    const program = await createProgram(t, { time_zone: 'Asia/Shanghai' });
    for (const time_zone of refused) {
      assertProblem(await t.call('PATCH', `/v1/programs/${program.id}`, { body: { time_zone }, idem: true }), 400, 'VALIDATION_FAILED', { path: '/time_zone' });
    }
    assert.equal(ok(await t.call('GET', `/v1/programs/${program.id}`)).time_zone, 'Asia/Shanghai');
  });

  it('accepts IANA names and the aliases both know, and evaluates capped rules in them', async () => {
    for (const time_zone of [
      'Asia/Shanghai',
      'UTC',
      'Asia/Kolkata',
      'Asia/Calcutta',
      'America/Argentina/Buenos_Aires',
      'America/Port-au-Prince',
      'Etc/GMT-8',
      'Europe/Kyiv',
      'US/Eastern',
    ]) {
      const program = await createProgram(t, { time_zone });
      assert.equal(program.time_zone, time_zone);
      ok(await t.call('POST', `/v1/programs/${program.id}/rules`, { body: { definition: capped } }), 201);
      const m = await createMember(t, program.id);
      assert.equal(ok(await checkin(program.id, m.id), 201).points, 5, time_zone);
      const second = ok(await checkin(program.id, m.id), 201);
      assert.equal(second.points, 0, time_zone);
      assert.equal(second.skipped[0].reason, 'frequency');
    }
  });

  it('refuses events of a program stored with a zone rules cannot use (422), writes nothing, replays what was processed, and recovers when the zone is fixed', async () => {
    const program = await createProgram(t, { time_zone: 'Asia/Shanghai' });
    ok(await t.call('POST', `/v1/programs/${program.id}/rules`, { body: { definition: capped } }), 201);
    const m = await createMember(t, program.id);
    const first = ok(await checkin(program.id, m.id, 'chk-before'), 201);
    // as an earlier version let it be stored (PostgreSQL knows these names)
    const bad = kind === 'postgres' ? ['Factory', 'posix/Asia/Shanghai', 'localtime'] : ['Factory'];
    for (const zone of bad) {
      await getDb().db.query('UPDATE program SET time_zone = $2 WHERE id = $1', [program.id, zone]);
      const before = await balance(t, m.id);
      const events = ok(await t.call('GET', `/v1/members/${m.id}/events`));
      assertProblem(await checkin(program.id, m.id), 422, 'PROGRAM_TIME_ZONE_UNSUPPORTED', { extra: { program_id: program.id, time_zone: zone } });
      assertProblem(
        await t.call('POST', '/v1/events/preview', { body: { id: 'p', type: 'checkin', program_id: program.id, member_id: m.id }, key: t.keys.integration }),
        422,
        'PROGRAM_TIME_ZONE_UNSUPPORTED',
      );
      const batch = ok(
        await t.call('POST', '/v1/events/batch', {
          body: {
            program_id: program.id,
            events: [
              { id: unique('b'), type: 'checkin', member_id: m.id },
              { id: 'chk-before', type: 'checkin', member_id: m.id },
              { id: unique('r'), type: 'member.registered', external_member_id: unique('new') },
            ],
          },
          key: t.keys.integration,
        }),
        200,
      );
      assert.deepEqual(
        batch.results.map((r: { status: number }) => r.status),
        [422, 200, 422],
      );
      assert.equal(batch.results[0].error.code, 'PROGRAM_TIME_ZONE_UNSUPPORTED');
      // an event processed before still replays its first result
      assert.deepEqual(batch.results[1].result, first);
      assert.deepEqual(ok(await checkin(program.id, m.id, 'chk-before'), 200), first);
      assert.deepEqual(await balance(t, m.id), before);
      assert.deepEqual(ok(await t.call('GET', `/v1/members/${m.id}/events`)), events);
      // the ledger itself does not use Intl: a credit still works, and the audit holds
      ok(await t.call('POST', `/v1/members/${m.id}/credits`, { body: { points: 1 }, idem: true }), 201);
      assert.equal(ok(await t.call('GET', `/v1/audit?program_id=${program.id}`)).ok, true);
    }
    // fixing the zone lets events through again
    assert.equal(ok(await t.call('PATCH', `/v1/programs/${program.id}`, { body: { time_zone: 'Asia/Shanghai' }, idem: true })).time_zone, 'Asia/Shanghai');
    ok(await checkin(program.id, m.id), 201);
  });
});
