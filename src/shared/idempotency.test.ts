import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, requestHash } from './idempotency.ts';

describe('request hashing for idempotency', () => {
  it('hashes equal payloads equally whatever their key order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } }), '{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}');
    assert.equal(requestHash('credit', { points: 1, reason: 'x' }), requestHash('credit', { reason: 'x', points: 1 }));
  });

  it('tells different payloads and different operations apart', () => {
    assert.notEqual(requestHash('credit', { points: 1 }), requestHash('credit', { points: 2 }));
    assert.notEqual(requestHash('credit', { points: 1 }), requestHash('debit', { points: 1 }));
  });

  it('treats an absent field and an undefined one alike, but not null', () => {
    assert.equal(canonicalJson({ a: 1, b: undefined }), canonicalJson({ a: 1 }));
    assert.notEqual(canonicalJson({ a: 1, b: null }), canonicalJson({ a: 1 }));
  });
});
