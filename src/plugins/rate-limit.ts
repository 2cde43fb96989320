import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { DomainError } from '../shared/errors.ts';
import type { App } from '../shared/http.ts';

/** Counters kept per instance (LRU): past this many keys the least recently seen are forgotten. */
const MAX_TRACKED_KEYS = 100_000;

/** Whom a request counts against: its API key or its member; nobody for public routes. */
function limitKey(request: FastifyRequest): string {
  if (request.apiKey) return `key:${request.apiKey.id}`;
  if (request.member) return `member:${request.member.member.id}`;
  return 'public';
}

/**
 * Rate limits per API key (JIFEN_RATE_LIMIT_API_KEY) and per member token's member
 * (JIFEN_RATE_LIMIT_MEMBER), requests per JIFEN_RATE_LIMIT_WINDOW_SECONDS, fixed windows counted
 * in this process (each instance counts on its own). They apply after authentication (the hooks
 * of routes run after the application's), so requests refused as unauthenticated do not count;
 * public routes (health, metrics, docs) are never limited. Responses carry RateLimit-Limit,
 * RateLimit-Remaining and RateLimit-Reset (seconds); a 429 RATE_LIMITED adds Retry-After.
 * Register before the routes: the limit is attached to each route as it is added.
 */
export async function registerRateLimit(app: App, config: Readonly<Config>): Promise<void> {
  const { rateLimitApiKey, rateLimitMember, rateLimitWindowSeconds } = config;
  if (rateLimitApiKey === 0 && rateLimitMember === 0) return;
  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    timeWindow: rateLimitWindowSeconds * 1000,
    cache: MAX_TRACKED_KEYS,
    enableDraftSpec: true,
    keyGenerator: limitKey,
    allowList: (request) => (request.apiKey ? rateLimitApiKey === 0 : request.member ? rateLimitMember === 0 : true),
    max: (request) => (request.apiKey ? rateLimitApiKey : rateLimitMember),
    errorResponseBuilder: (_request, context) => {
      const retryAfter = Math.max(1, Math.ceil(context.ttl / 1000));
      return new DomainError('RATE_LIMITED', `More than ${context.max} requests in ${rateLimitWindowSeconds} seconds; retry in ${retryAfter} s`, {
        limit: context.max,
        window_seconds: rateLimitWindowSeconds,
        retry_after_seconds: retryAfter,
      });
    },
  });
}
