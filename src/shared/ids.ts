import { randomBytes } from 'node:crypto';

/**
 * Opaque, time-sortable ids with a type prefix (`mbr_…`, `prg_…`), the same shape as the ids the
 * database makes for entries and lots (jf_id): 12 hex digits of milliseconds, then 16 random hex.
 */
export function newId(prefix: string): string {
  return `${prefix}_${Date.now().toString(16).padStart(12, '0')}${randomBytes(8).toString('hex')}`;
}
