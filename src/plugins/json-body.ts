import { DomainError } from '../shared/errors.ts';
import type { App } from '../shared/http.ts';
import { findTooDeep, MAX_BODY_DEPTH } from '../shared/json-limits.ts';

/**
 * JSON bodies are read as Fastify reads them (secure-json-parse: __proto__ and constructor keys
 * refused), after one iterative pass over the text that refuses nesting deeper than
 * MAX_BODY_DEPTH. Everything that walks a parsed body afterwards (Ajv, the text checks, hashing,
 * serialisation, the database) can then never run out of stack.
 */
export function registerJsonBody(app: App) {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    const path = findTooDeep(text, MAX_BODY_DEPTH);
    if (path !== undefined) {
      const message = `nests objects and arrays deeper than ${MAX_BODY_DEPTH} levels`;
      done(new DomainError('JSON_TOO_DEEP', `body ${path} ${message}`, { max_depth: MAX_BODY_DEPTH }, [{ path, location: 'body', message }]), undefined);
      return;
    }
    parse(request, text, done);
  });
}
