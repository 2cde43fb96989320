import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../shared/http.ts';

/** The web apps the server serves, each built by web/build.ts into <webDir>/<folder>. */
const APPS = [
  { prefix: '/console', folder: 'console' },
  { prefix: '/m', folder: 'member' },
] as const;

/**
 * Serves the operator console at /console and the member centre at /m from the Vite build in
 * webDir (web/dist). Hashed assets are cached for a year; index.html is never cached, so a new
 * build shows on the next load. Any other path under an app answers its index.html, so the apps'
 * client-side routes survive a reload. `/` goes to the console. An app that is not built is left
 * out (the API works without the web apps; `npm start` builds them first).
 */
export async function registerWebApps(app: App, webDir: string | undefined): Promise<string[]> {
  if (!webDir) return [];
  const served: string[] = [];
  for (const { prefix, folder } of APPS) {
    const root = join(webDir, folder);
    if (!existsSync(join(root, 'index.html'))) continue;
    await app.register(fastifyStatic, {
      root,
      prefix: `${prefix}/`,
      wildcard: false,
      index: false,
      decorateReply: served.length === 0,
      cacheControl: false,
      globIgnore: ['**/.vite/**'],
      setHeaders: (reply, path) => {
        reply.header('cache-control', path.includes(`${folder}/assets/`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
    // a page's path has no file extension; a missing file (an old asset) is a 404, not the page
    const page = async (request: FastifyRequest, reply: FastifyReply) =>
      /\.\w+$/.test(request.url.split('?')[0]!)
        ? reply.callNotFound()
        : reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').sendFile('index.html', root);
    app.get(prefix, { schema: { hide: true } }, page);
    app.get(`${prefix}/*`, { schema: { hide: true } }, page);
    served.push(prefix);
  }
  if (served.includes('/console')) app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/'));
  return served;
}
