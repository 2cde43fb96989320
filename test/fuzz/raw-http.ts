/**
 * Raw malformed HTTP against a listening server (127.0.0.1, a free port): bad request lines, bad and
 * oversize headers, smuggling-shaped framing, foreign protocols. Each case must get a 4xx that is
 * problem+json with a known code, or a closed connection (when there is nothing to answer) — never
 * a 5xx — and the server must still answer /healthz afterwards.
 */
import net from 'node:net';
import { ERRORS } from '../../src/shared/errors.ts';
import type { TestApp } from '../helpers/app.ts';

export interface RawCase {
  name: string;
  bytes: Buffer;
  /** Statuses that are right for this input although not 4xx (e.g. 200 for a lenient but valid form). */
  allow?: number[];
  /** The request is incomplete: the server may rightly wait for the rest (no answer is fine). */
  waits?: boolean;
}

export interface RawResult {
  status?: number;
  headers: Record<string, string>;
  body: string;
  closed: boolean;
  ms: number;
}

export interface RawReport {
  cases: number;
  byStatus: Record<string, number>;
  failures: { name: string; message: string; request: string; response: string }[];
  ms: number;
}

const b = (s: string) => Buffer.from(s, 'latin1');

export function rawCases(key: string): RawCase[] {
  const auth = `Authorization: Bearer ${key}\r\n`;
  const ok = [200, 201, 404];
  const post = (headers: string, body: string | Buffer) =>
    Buffer.concat([b(`POST /v1/programs HTTP/1.1\r\nHost: x\r\n${auth}${headers}\r\n`), typeof body === 'string' ? b(body) : body]);
  return [
    { name: 'no Host on HTTP/1.1', bytes: b('GET /healthz HTTP/1.1\r\n\r\n') },
    { name: 'garbage line', bytes: b('GARBAGE\r\n\r\n') },
    { name: 'empty lines only', bytes: b('\r\n\r\n\r\n'), waits: true },
    { name: 'HTTP/9.9', bytes: b('GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n'), allow: [505] },
    { name: 'HTTP/2 preface', bytes: b('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), allow: [505] },
    { name: 'TLS ClientHello', bytes: Buffer.from(`16030100a5010000a10303${'00'.repeat(40)}`, 'hex') },
    { name: 'double space in request line', bytes: b('GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n'), allow: ok },
    { name: 'no version (HTTP/0.9 form)', bytes: b('GET /healthz\r\nHost: x\r\n\r\n'), allow: ok },
    { name: 'lower-case method', bytes: b('get /healthz HTTP/1.1\r\nHost: x\r\n\r\n') },
    { name: 'unknown method', bytes: b('FOO /healthz HTTP/1.1\r\nHost: x\r\n\r\n') },
    { name: 'PROPFIND', bytes: b(`PROPFIND /v1/programs HTTP/1.1\r\nHost: x\r\n${auth}\r\n`) },
    { name: 'TRACE', bytes: b(`TRACE /v1/programs HTTP/1.1\r\nHost: x\r\n${auth}\r\n`) },
    { name: 'OPTIONS', bytes: b(`OPTIONS /v1/programs HTTP/1.1\r\nHost: x\r\n${auth}\r\n`) },
    { name: 'CONNECT', bytes: b('CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n') },
    { name: 'asterisk form', bytes: b('GET * HTTP/1.1\r\nHost: x\r\n\r\n') },
    { name: 'absolute form', bytes: b('GET http://elsewhere.invalid/healthz HTTP/1.1\r\nHost: x\r\n\r\n'), allow: ok },
    { name: 'NUL in target', bytes: b('GET /healthz\x00 HTTP/1.1\r\nHost: x\r\n\r\n') },
    { name: 'raw UTF-8 in target', bytes: Buffer.concat([b('GET /v1/members/'), Buffer.from('积分'), b(` HTTP/1.1\r\nHost: x\r\n${auth}\r\n`)]) },
    { name: 'bad percent-encoding', bytes: b(`GET /v1/members/%C0%AF HTTP/1.1\r\nHost: x\r\n${auth}\r\n`) },
    { name: 'broken percent', bytes: b(`GET /v1/members/%ZZ HTTP/1.1\r\nHost: x\r\n${auth}\r\n`) },
    { name: 'over-long path parameter', bytes: b(`GET /v1/members/mbr_${'a'.repeat(5_000)} HTTP/1.1\r\nHost: x\r\n${auth}\r\n`) },
    { name: 'over-long URL', bytes: b(`GET /v1/programs?q=${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n${auth}\r\n`) },
    { name: 'header without colon', bytes: b('GET /healthz HTTP/1.1\r\nHost: x\r\nBadHeader\r\n\r\n') },
    { name: 'space before colon', bytes: b('GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n') },
    { name: 'bad header name', bytes: b('GET /healthz HTTP/1.1\r\nHost: x\r\nX(Y): z\r\n\r\n') },
    { name: 'obsolete line folding', bytes: b('GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n folded\r\n\r\n') },
    { name: 'NUL in header value', bytes: b('GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n') },
    { name: 'lone CR in header', bytes: b('GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n') },
    { name: 'bare LF line ends', bytes: b('GET /healthz HTTP/1.1\nHost: x\n\n'), allow: ok },
    { name: 'two Host headers', bytes: b('GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n'), allow: ok },
    { name: 'oversize header', bytes: b(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`) },
    { name: 'oversize Authorization', bytes: b(`GET /v1/programs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'k'.repeat(70_000)}\r\n\r\n`) },
    { name: '3,000 headers', bytes: b(`GET /healthz HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3_000 }, (_, i) => `X-${i}: ${i}\r\n`).join('')}\r\n`) },
    {
      name: 'Content-Length and Transfer-Encoding',
      bytes: post('Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'),
    },
    { name: 'two Content-Lengths', bytes: post('Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n', '{}') },
    { name: 'Content-Length not a number', bytes: post('Content-Type: application/json\r\nContent-Length: abc\r\n', '{}') },
    { name: 'negative Content-Length', bytes: post('Content-Type: application/json\r\nContent-Length: -1\r\n', '{}') },
    { name: 'Content-Length 1e3', bytes: post('Content-Type: application/json\r\nContent-Length: 1e3\r\n', '{}') },
    { name: 'Content-Length beyond the limit', bytes: post('Content-Type: application/json\r\nContent-Length: 10485760\r\n', '{"name":"x"') },
    { name: 'body shorter than Content-Length', bytes: post('Content-Type: application/json\r\nContent-Length: 100\r\n', '{"name":'), waits: true },
    { name: 'bad chunk size', bytes: post('Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n', 'zz\r\n{}\r\n0\r\n\r\n') },
    { name: 'chunked, identity', bytes: post('Content-Type: application/json\r\nTransfer-Encoding: chunked, identity\r\n', '2\r\n{}\r\n0\r\n\r\n') },
    {
      name: 'huge chunk extension',
      bytes: post('Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n', `2;${'e'.repeat(20_000)}\r\n{}\r\n0\r\n\r\n`),
    },
    {
      name: 'invalid UTF-8 body',
      bytes: post('Content-Type: application/json\r\nContent-Length: 14\r\n', Buffer.concat([b('{"name":"'), Buffer.from('c0afff', 'hex'), b('"}')])),
      allow: [201],
    },
    { name: 'gzip claimed, not gzip', bytes: post('Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n', '{}') },
    { name: 'Expect 100-continue without a body', bytes: post('Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 0\r\n', '') },
    {
      name: 'websocket upgrade',
      bytes: b(
        'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      ),
      allow: ok,
    },
    {
      name: 'h2c upgrade',
      bytes: b('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n'),
      allow: ok,
    },
    {
      name: 'non-ASCII Idempotency-Key',
      bytes: Buffer.concat([
        b(`POST /v1/programs HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nIdempotency-Key: `),
        Buffer.from('积分\u0000'),
        b('\r\nContent-Length: 2\r\n\r\n{}'),
      ]),
    },
    { name: 'pipelined valid then garbage', bytes: b('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n'), allow: ok },
  ];
}

function exchange(port: number, bytes: Buffer, timeoutMs: number): Promise<RawResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: '127.0.0.1', port });
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      let text = Buffer.concat(chunks).toString('latin1');
      // interim responses (100 Continue) come before the answer
      while (/^HTTP\/\d\.\d 1\d\d/.test(text) && text.includes('\r\n\r\n')) text = text.slice(text.indexOf('\r\n\r\n') + 4);
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const lines = head.split('\r\n');
      const status = /^HTTP\/\d\.\d (\d{3})/.exec(lines[0] ?? '')?.[1];
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      let body = rest.join('\r\n\r\n');
      if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = body.replace(/^[0-9a-f]+\r\n/i, '').replace(/\r\n0\r\n\r\n$/, '');
      resolve({ status: status ? Number(status) : undefined, headers, body: Buffer.from(body, 'latin1').toString('utf8'), closed, ms: performance.now() - t0 });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (c) => {
      chunks.push(c);
      // one response is enough: stop once a complete body (by content-length) is in
      let text = Buffer.concat(chunks).toString('latin1');
      while (/^HTTP\/\d\.\d 1\d\d/.test(text) && text.includes('\r\n\r\n')) text = text.slice(text.indexOf('\r\n\r\n') + 4);
      const end = text.indexOf('\r\n\r\n');
      const len = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))?.[1];
      if (end > 0 && len !== undefined && Buffer.byteLength(text.slice(end + 4), 'latin1') >= Number(len)) finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      socket.write(bytes);
    });
  });
}

export async function runRawHttp(t: TestApp, options: { timeoutMs?: number } = {}): Promise<RawReport> {
  const t0 = performance.now();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const port = address.port;
  const report: RawReport = { cases: 0, byStatus: {}, failures: [], ms: 0 };
  const timeoutMs = options.timeoutMs ?? 3_000;
  for (const c of rawCases(t.keys.admin)) {
    const r = await exchange(port, c.bytes, c.waits ? Math.min(timeoutMs, 1_000) : timeoutMs);
    report.cases++;
    const statusKey = r.status === undefined ? (r.closed ? 'closed' : 'no answer') : String(r.status);
    report.byStatus[statusKey] = (report.byStatus[statusKey] ?? 0) + 1;
    const fail = (message: string) =>
      report.failures.push({
        name: c.name,
        message,
        request: JSON.stringify(c.bytes.toString('latin1').slice(0, 300)),
        response: `${r.status ?? '-'} ${r.headers['content-type'] ?? ''} ${r.body.slice(0, 300)}`,
      });
    if (r.status === undefined) {
      if (!r.closed && !c.waits) fail(`no answer and the connection still open after ${timeoutMs} ms`);
    } else if (c.allow?.includes(r.status)) {
      // fine
    } else if (r.status >= 500) fail(`answered ${r.status}`);
    else if (r.status < 400) fail(`answered ${r.status} to a malformed request`);
    else {
      const ct = (r.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (ct !== 'application/problem+json') fail(`${r.status} with content-type ${ct || '(none)'}, not problem+json`);
      else {
        try {
          const body = JSON.parse(r.body);
          const known = typeof body.code === 'string' && Object.hasOwn(ERRORS, body.code);
          if (!known) fail(`unknown code ${JSON.stringify(body.code)}`);
          else if (ERRORS[body.code as keyof typeof ERRORS][0] !== r.status || body.status !== r.status) fail(`code ${body.code} with status ${r.status}`);
        } catch {
          fail('problem+json body does not parse');
        }
      }
    }
    const alive = await exchange(port, Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), timeoutMs);
    if (alive.status !== 200) fail(`/healthz afterwards answered ${alive.status ?? (alive.closed ? 'nothing (closed)' : 'nothing')}`);
  }
  report.ms = performance.now() - t0;
  return report;
}

export function formatRawReport(report: RawReport, label: string): string {
  const lines = [
    `${label}: ${report.cases} cases in ${(report.ms / 1000).toFixed(1)} s; by status ${JSON.stringify(report.byStatus)}; ${report.failures.length} failures`,
  ];
  for (const f of report.failures) lines.push(`  [raw HTTP] ${f.name}: ${f.message}\n    sent ${f.request}\n    got  ${f.response}`);
  return lines.join('\n');
}
