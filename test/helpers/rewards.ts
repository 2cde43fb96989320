import assert from 'node:assert/strict';
import type { TestApp } from './app.ts';
import { unique } from './factories.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON answers
export type Json = any;

export const rewardName = (zh: string, en: string) => ({ 'zh-CN': zh, en });

/** The body of the answer, failing with the whole answer when the status is another. */
export function ok(res: { statusCode: number; body: string; json: () => Json }, status = 200): Json {
  assert.equal(res.statusCode, status, res.body);
  return res.json();
}

/** A program (UTC unless said), with points that never expire unless its expiry policy says. */
export async function rewardProgram(t: TestApp, body: Json = {}): Promise<string> {
  return ok(await t.call('POST', '/v1/programs', { body: { name: unique('rewards'), time_zone: 'UTC', pending_days: 0, ...body } }), 201).id;
}

export async function fundedMember(t: TestApp, programId: string, points: number, credit: Json = {}): Promise<string> {
  const id = ok(await t.call('POST', `/v1/programs/${programId}/members`, { body: { external_id: unique('m') } }), 201).id;
  if (points > 0) ok(await t.call('POST', `/v1/members/${id}/credits`, { body: { points, ...credit }, idem: true }), 201);
  return id;
}

/** An active reward (physical, 100 points, unlimited) with what `body` changes. */
export async function activeReward(t: TestApp, programId: string, body: Json = {}): Promise<Json> {
  return ok(
    await t.call('POST', `/v1/programs/${programId}/rewards`, {
      body: { type: 'physical', name: rewardName('保温杯', 'Thermos'), points_cost: 100, status: 'active', ...body },
    }),
    201,
  );
}

export function redeem(t: TestApp, memberId: string, body: Json, idem: string | true = true) {
  return t.call('POST', `/v1/members/${memberId}/redemptions`, { key: t.keys.integration, body, idem });
}
