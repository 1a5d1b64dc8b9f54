import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientRequestId } from '../logging/logging.module';

/**
 * The HTTP request a piece of work runs for, so an audit entry can name its request id without
 * every service passing the request around. The id itself is read lazily: pino-http assigns it
 * (see logging.module.ts `genReqId`), and reading at record time does not depend on middleware order.
 */
const storage = new AsyncLocalStorage<{ req: IncomingMessage; res: ServerResponse }>();

export function requestContextMiddleware(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  storage.run({ req, res }, next);
}

/** The current request's id (the service's own, its X-Request-Id answer), or null outside a request (jobs, CLI). */
export function currentRequestId(): string | null {
  const ctx = storage.getStore();
  if (!ctx) return null;
  const id = (ctx.req as IncomingMessage & { id?: unknown }).id ?? ctx.res.getHeader('x-request-id');
  return typeof id === 'string' || typeof id === 'number' ? String(id).slice(0, 100) : null;
}

/** The current request's client-supplied X-Request-Id, kept beside the service's own; null when none. */
export function currentClientRequestId(): string | null {
  const ctx = storage.getStore();
  return ctx ? clientRequestId(ctx.req) : null;
}
