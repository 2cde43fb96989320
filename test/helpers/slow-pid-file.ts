/**
 * Fault injection for the data-directory race test, loaded into a server process with
 * `NODE_OPTIONS=--import ./test/helpers/slow-pid-file.ts`: every read of a file named jifen.pid
 * returns 500 ms after it read the file. A lock that reads the pid file to decide (check, then write) then lets
 * racing processes all see the same stale pid, every time, instead of once in a while; a lock that
 * only reads it for its message is not affected.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const DELAY_MS = 500;
const isPidFile = (path: unknown) => /(^|[\\/])jifen\.pid$/.test(String(path instanceof URL ? path.pathname : path));

const readFile = fs.promises.readFile;
fs.promises.readFile = (async (path: Parameters<typeof readFile>[0], ...rest: unknown[]) => {
  const content = await (readFile as (...args: unknown[]) => Promise<unknown>)(path, ...rest);
  if (isPidFile(path)) await new Promise((resolve) => setTimeout(resolve, DELAY_MS));
  return content;
}) as typeof readFile;

const readFileSync = fs.readFileSync;
fs.readFileSync = ((path: Parameters<typeof readFileSync>[0], ...rest: unknown[]) => {
  const content = (readFileSync as (...args: unknown[]) => unknown)(path, ...rest);
  if (isPidFile(path)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, DELAY_MS);
  return content;
}) as typeof readFileSync;

syncBuiltinESMExports();
