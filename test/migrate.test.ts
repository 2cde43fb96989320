import assert from 'node:assert/strict';
import { it } from 'node:test';
import { openDb } from '../src/db/db.ts';
import { migrate } from '../src/db/migrate.ts';
import { forEachDatabase } from './helpers/db.ts';

forEachDatabase('migrations', (getDb, kind) => {
  it('applies nothing the second time', async () => {
    const { applied, total } = await migrate(getDb().db);
    assert.deepEqual(applied, []);
    assert.ok(total >= 4);
  });

  if (kind === 'postgres') {
    it('applies each migration once when several instances start together', async () => {
      const { db, url } = getDb();
      await db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
      const pools = await Promise.all([1, 2, 3].map(() => openDb({ databaseUrl: url!, poolSize: 2 })));
      try {
        const results = await Promise.all(pools.map((p) => migrate(p)));
        const applied = results.flatMap((r) => r.applied);
        assert.equal(applied.length, results[0]!.total, 'every migration applied exactly once in total');
        assert.equal(new Set(applied).size, applied.length);
      } finally {
        await Promise.all(pools.map((p) => p.close()));
      }
    });
  }

  it('refuses to update, delete or truncate ledger entries', async () => {
    const { db } = getDb();
    await db.query(`INSERT INTO program (id, name, created_at, updated_at) VALUES ('prg_immut', 'x', now(), now())`);
    await db.query(`INSERT INTO ledger_entry (id, program_id, member_id, txn_id, kind, debit_account, credit_account, amount, occurred_at)
                    VALUES ('ent_immut', 'prg_immut', 'mbr_x', 'txn_x', 'earn', 'issued', 'member', 1, now())`);
    await assert.rejects(db.query(`UPDATE ledger_entry SET amount = 2 WHERE id = 'ent_immut'`), /append-only/);
    await assert.rejects(db.query(`DELETE FROM ledger_entry WHERE id = 'ent_immut'`), /append-only/);
    await assert.rejects(db.exec(`TRUNCATE ledger_entry`), /append-only/);
    const [row] = await db.query<{ amount: number }>(`SELECT amount FROM ledger_entry WHERE id = 'ent_immut'`);
    assert.equal(row!.amount, 1);
  });
});
