#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.ts';
import { MigrationError, migrate } from './db/migrate.ts';
import { createApiKeyFor } from './modules/api-keys/index.ts';
import { formatAudit, runAudit } from './modules/audit/index.ts';
import { provisionUser, ROLES, type Role } from './modules/console-users/index.ts';
import { sweep } from './modules/ledger/index.ts';
import { verifyDrawCommand } from './modules/lottery/index.ts';
import { existingPrograms } from './modules/programs/index.ts';
import { openConfiguredDb, StartupError, startServer } from './server.ts';
import { DomainError } from './shared/errors.ts';
import type { Scope } from './shared/http.ts';

const HELP = `jifen — loyalty points engine

Usage: jifen <command> [options]

Commands:
  serve                          Migrate, then start the API (default). Uses DATABASE_URL, or the embedded
                                 database in JIFEN_DATA_DIR (./data).
  migrate                        Apply pending database migrations and exit.
  audit [--program prg_…]        Check every ledger invariant; exit 1 if any is broken.
  sweep                          Release timed-out holds and expire due lots now.
  api-key --name N --scope S [--program prg_…]
                                 Create an API key (scopes: admin, integration, read; repeat --scope).
                                 With --program (repeatable) the key acts on those programs only;
                                 without, on the whole deployment.
  console-user --email E --role R [--program prg_…] [--name N]
                                 Give a console user a role (owner, operator, finance, support, viewer)
                                 in a program, or without --program in every program; makes the user
                                 if new. Prints a new password (other sessions of the user end).
  verify-draw --seed S --client-seed C --nonce N --weights code:w,… [--seed-hash H] [--expect CODE]
  verify-draw --draw ldr_… --url URL
                                 Recompute a lottery draw (docs/rewards.md, "Lottery") from its revealed
                                 seed, client seed, nonce and weights, or those of a draw fetched from a
                                 server's public verification; exit 1 if the hash or the prize differ.

Examples:
  npx jifen audit
  DATABASE_URL=postgres://localhost/jifen npx jifen migrate
  npx jifen api-key --name checkout --scope integration
  npx jifen api-key --name coffee-pos --scope integration --program prg_demo
  npx jifen console-user --email ops@example.com --role operator --program prg_demo
  npx jifen verify-draw --draw ldr_019ab3c4d5e6 --url https://jifen.example.com
`;

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      program: { type: 'string', multiple: true },
      name: { type: 'string' },
      email: { type: 'string' },
      role: { type: 'string' },
      scope: { type: 'string', multiple: true },
      seed: { type: 'string' },
      'client-seed': { type: 'string' },
      nonce: { type: 'string' },
      weights: { type: 'string' },
      'seed-hash': { type: 'string' },
      draw: { type: 'string' },
      url: { type: 'string' },
      expect: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0] ?? 'serve';
  if (values.help || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === 'verify-draw') {
    // no database: the draw is recomputed from its inputs alone
    const result = await verifyDrawCommand(values);
    process.stdout.write(result.out);
    process.stderr.write(result.err);
    return result.code;
  }
  const config = loadConfig();
  if (command === 'serve') {
    await startServer(config);
    return undefined;
  }
  const db = await openConfiguredDb(config);
  try {
    switch (command) {
      case 'migrate': {
        const { applied, functions, total } = await migrate(db);
        process.stdout.write(applied.length ? `Applied ${applied.length} migration(s):\n  ${applied.join('\n  ')}\n` : `Up to date (${total} migrations).\n`);
        if (functions.length) process.stdout.write(`Applied the SQL function files:\n  ${functions.join('\n  ')}\n`);
        return 0;
      }
      case 'audit': {
        if ((values.program?.length ?? 0) > 1) {
          process.stderr.write('audit takes at most one --program\n');
          return 2;
        }
        await migrate(db);
        const report = await runAudit(db, new Date(), values.program?.[0] ?? null);
        process.stdout.write(`${formatAudit(report)}\n`);
        return report.ok ? 0 : 1;
      }
      case 'sweep': {
        await migrate(db);
        const report = await sweep(db, new Date(), { idempotencyRetentionDays: config.idempotencyRetentionDays });
        process.stdout.write(
          `Released ${report.holds_released} hold(s), expired ${report.lots_expired} lot(s), purged ${report.idempotency_keys_purged} idempotency key(s).\n`,
        );
        return 0;
      }
      case 'api-key': {
        const scopes = (values.scope ?? []) as Scope[];
        if (!values.name || scopes.length === 0 || scopes.some((s) => !['admin', 'integration', 'read'].includes(s))) {
          process.stderr.write('api-key needs --name and at least one --scope (admin, integration, read)\n');
          return 2;
        }
        await migrate(db);
        const key = await createApiKeyFor(db, null, { name: values.name, scopes, program_ids: values.program ?? null }, new Date(), { existingPrograms });
        process.stdout.write(`${key.secret}\n`);
        return 0;
      }
      case 'console-user': {
        const role = values.role as Role | undefined;
        if (!values.email || !role || !ROLES.includes(role) || (values.program?.length ?? 0) > 1) {
          process.stderr.write(`console-user needs --email, --role (${ROLES.join(', ')}) and at most one --program\n`);
          return 2;
        }
        await migrate(db);
        const user = await provisionUser(db, { email: values.email, name: values.name, role, programId: values.program?.[0] ?? null }, new Date());
        process.stdout.write(`${user.email} (${user.id}): ${role} of ${values.program?.[0] ?? 'every program'}\npassword: ${user.password}\n`);
        return 0;
      }
      default:
        process.stderr.write(`Unknown command: ${command}\n\n${HELP}`);
        return 2;
    }
  } finally {
    await db.close();
  }
}

main().then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (err) => {
    if (err instanceof ConfigError || err instanceof StartupError || err instanceof DomainError || err instanceof MigrationError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
