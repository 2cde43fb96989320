import { isUtf8 } from 'node:buffer';
import { DomainError } from '../shared/errors.ts';
import type { App } from '../shared/http.ts';
import { findTooDeep, MAX_BODY_DEPTH } from '../shared/json-limits.ts';

/**
 * JSON bodies are read as Fastify reads them (secure-json-parse: __proto__ and constructor keys
 * refused), after checks Fastify does not make:
 * - the body is UTF-8 (RFC 8259): invalid bytes are a 400, not silently replaced by U+FFFD;
 * - a charset other than UTF-8, or a Content-Encoding (gzip, …), is a 415: it would be misread;
 * - one iterative pass over the text refuses nesting deeper than MAX_BODY_DEPTH, so everything
 *   that walks a parsed body afterwards (Ajv, the text checks, hashing, serialisation, the
 *   database) can never run out of stack.
 */
export function registerJsonBody(app: App) {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(String(request.headers['content-type']))?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      done(new DomainError('UNSUPPORTED_MEDIA_TYPE', `Send the body as application/json in UTF-8, not ${charset}`), undefined);
      return;
    }
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      done(new DomainError('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${encoding} is not supported: send the body uncompressed`), undefined);
      return;
    }
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) {
      done(new DomainError('INVALID_JSON', 'The body is not valid UTF-8'), undefined);
      return;
    }
    const text = bytes.toString('utf8');
    const path = findTooDeep(text, MAX_BODY_DEPTH);
    if (path !== undefined) {
      const message = `nests objects and arrays deeper than ${MAX_BODY_DEPTH} levels`;
      done(new DomainError('JSON_TOO_DEEP', `body ${path} ${message}`, { max_depth: MAX_BODY_DEPTH }, [{ path, location: 'body', message }]), undefined);
      return;
    }
    parse(request, text, done);
  });
}
