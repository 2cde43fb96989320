import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** One registry per process: Prometheus scrapes a process, not an app instance. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'jifen_' });

export const httpRequestDuration = new Histogram({
  name: 'jifen_http_request_duration_seconds',
  help: 'HTTP request duration by route and status code',
  labelNames: ['method', 'route', 'status_code'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const ledgerOperations = new Counter({
  name: 'jifen_ledger_operations_total',
  help: 'Ledger operations by operation and outcome (ok, replayed, or the error code)',
  labelNames: ['operation', 'outcome'] as const,
  registers: [registry],
});

export const jobRuns = new Counter({
  name: 'jifen_job_items_total',
  help: 'Items processed by background jobs',
  labelNames: ['job'] as const,
  registers: [registry],
});
