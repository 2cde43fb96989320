import { randomBytes } from 'node:crypto';

// Random bytes are drawn 4 KiB at a time: one call per id cost more than the rest of the id.
let pool = Buffer.alloc(0);
let offset = 0;

function random16Hex(): string {
  if (offset + 8 > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  offset += 8;
  return pool.toString('hex', offset - 8, offset);
}

/**
 * Opaque, time-sortable ids with a type prefix (`mbr_…`, `prg_…`), the same shape as the ids the
 * database makes for entries and lots (jf_id): 12 hex digits of milliseconds, then 16 random hex.
 */
export function newId(prefix: string): string {
  return `${prefix}_${Date.now().toString(16).padStart(12, '0')}${random16Hex()}`;
}
