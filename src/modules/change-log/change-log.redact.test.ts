import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_STORED_BYTES, REDACTED, redactSecrets, storedBody } from './change-log.redact.ts';

describe('change-log redaction', () => {
  it('redacts the text of secret fields at any depth and keeps the rest', () => {
    const body = {
      id: 'key_1',
      secret: 'jf_live_abc',
      name: 'pos',
      nested: { password: 'hunter2', new_password: 'x', csrf_token: 't', token_type: 'Bearer', list: [{ client_secret: 's' }] },
      previous_secret_id: 'mts_1',
      secret_info: null,
    };
    assert.deepEqual(redactSecrets(body), {
      id: 'key_1',
      secret: REDACTED,
      name: 'pos',
      nested: { password: REDACTED, new_password: REDACTED, csrf_token: REDACTED, token_type: 'Bearer', list: [{ client_secret: REDACTED }] },
      previous_secret_id: 'mts_1',
      secret_info: null,
    });
  });

  it('keeps a secret field that holds an object (its id and date), searching inside it', () => {
    assert.deepEqual(redactSecrets({ secret: { id: 'mts_1', created_at: 'x', secret: 'raw' }, previous_secret: null }), {
      secret: { id: 'mts_1', created_at: 'x', secret: REDACTED },
      previous_secret: null,
    });
  });

  it('stores bodies up to the cap as they are and larger ones as a marker with the id', () => {
    const small = { id: 'mbr_1', object: 'member', name: 'a' };
    assert.deepEqual(storedBody(small), small);
    const big = { id: 'rul_1', object: 'rule', blob: 'x'.repeat(MAX_STORED_BYTES) };
    const stored = storedBody(big) as Record<string, unknown>;
    assert.equal(stored.truncated, true);
    assert.equal(stored.id, 'rul_1');
    assert.equal(stored.object, 'rule');
    assert.ok((stored.bytes as number) > MAX_STORED_BYTES);
    assert.equal(storedBody(undefined), null);
  });
});
