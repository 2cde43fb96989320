import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromLocal, localParts, periodOf } from './time.ts';

describe('calendar arithmetic in a time zone', () => {
  it('reads local wall-clock parts and the ISO weekday', () => {
    // 2026-11-23T18:00Z is 02:00 on Tuesday 24 November in Shanghai
    assert.deepEqual(localParts(new Date('2026-11-23T18:00:00Z'), 'Asia/Shanghai'), {
      year: 2026,
      month: 11,
      day: 24,
      hour: 2,
      minute: 0,
      second: 0,
      weekday: 2,
    });
  });

  it('finds the instant of a local time, across daylight saving changes', () => {
    assert.equal(fromLocal('Asia/Shanghai', 2028, 1, 1).toISOString(), '2027-12-31T16:00:00.000Z');
    assert.equal(fromLocal('America/New_York', 2026, 3, 8, 12).toISOString(), '2026-03-08T16:00:00.000Z'); // after spring-forward (EDT)
    assert.equal(fromLocal('America/New_York', 2026, 3, 7, 12).toISOString(), '2026-03-07T17:00:00.000Z'); // before (EST)
  });

  it('gives local day, ISO week and month periods', () => {
    const at = new Date('2026-11-23T18:00:00Z'); // Tue 24 Nov, Shanghai
    assert.deepEqual(
      periodOf(at, 'Asia/Shanghai', 'day').map((d) => d.toISOString()),
      ['2026-11-23T16:00:00.000Z', '2026-11-24T16:00:00.000Z'],
    );
    assert.deepEqual(
      periodOf(at, 'Asia/Shanghai', 'week').map((d) => d.toISOString()),
      ['2026-11-22T16:00:00.000Z', '2026-11-29T16:00:00.000Z'],
    );
    assert.deepEqual(
      periodOf(at, 'Asia/Shanghai', 'month').map((d) => d.toISOString()),
      ['2026-10-31T16:00:00.000Z', '2026-11-30T16:00:00.000Z'],
    );
    assert.deepEqual(
      periodOf(new Date('2026-12-15T00:00:00Z'), 'UTC', 'month').map((d) => d.toISOString()),
      ['2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    );
  });
});
