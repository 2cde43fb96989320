/**
 * What the change log keeps of a body: secrets redacted by field name, and a size cap.
 * Pure: the plugin calls these on what a write answered and on the resource it had before.
 */

/** Fields whose text is a credential: API key and member-token secrets, passwords, tokens. */
const SECRET_FIELD = /^(?:secret|password|token|.+_secret|.+_password|.+_token|password_hash|secret_hash|key_hash)$/i;

export const REDACTED = '[redacted]';

/** Bodies larger than this (as JSON) are stored as {truncated: true, id, object, bytes}. */
export const MAX_STORED_BYTES = 16_384;

/**
 * A copy of value with the text of every secret field (at any depth) replaced by "[redacted]". A
 * secret field holding an object (member-token settings' `secret`: its id and date) is kept and
 * searched like any other; null stays null (whether there was one is not a secret).
 */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_FIELD.test(k) && (typeof v === 'string' || typeof v === 'number') ? REDACTED : redactSecrets(v);
  }
  return out;
}

/** The JSON text stored of a body (null for none): secrets redacted in the same pass, capped at MAX_STORED_BYTES. */
export function storedJson(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const text = JSON.stringify(value, (key, v) => (key !== '' && SECRET_FIELD.test(key) && (typeof v === 'string' || typeof v === 'number') ? REDACTED : v));
  const bytes = text.length > MAX_STORED_BYTES / 4 ? Buffer.byteLength(text) : text.length;
  if (bytes <= MAX_STORED_BYTES) return text;
  const o = (typeof value === 'object' && !Array.isArray(value) ? value : {}) as Record<string, unknown>;
  return JSON.stringify({ truncated: true, id: typeof o.id === 'string' ? o.id : null, object: typeof o.object === 'string' ? o.object : null, bytes });
}

/** What is stored of a body, as a value (storedJson parsed). */
export function storedBody(value: unknown): unknown {
  const text = storedJson(value);
  return text === null ? null : JSON.parse(text);
}
