import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { AsyncLocalStorage } from 'node:async_hooks';
import { PinoLogger } from 'nestjs-pino';
// nestjs-pino's own request store: its Logger writes through the logger found there.
import { storage as pinoStorage, type Store as PinoStore } from 'nestjs-pino/storage';
import type { Logger as Pino } from 'pino';

/** The HTTP request a piece of work runs for: its ids, for log lines and audit entries. */
interface RequestContext {
  /** The service's own id (a UUID, Fastify's `request.id`), answered as X-Request-Id. */
  requestId: string;
  /** The caller's X-Request-Id when it is a plain token, kept beside ours; null when none. */
  clientRequestId: string | null;
}

/**
 * One store per request, nestjs-pino's own (its Logger writes through the `logger` it finds
 * there), carrying the request's ids beside it: one AsyncLocalStorage, not two.
 */
type Store = PinoStore & RequestContext;
const storage = pinoStorage as AsyncLocalStorage<Store>;

/** The caller's own X-Request-Id when it is a plain token (letters, digits, `_.-`, ≤ 100), else null. */
export function clientRequestId(req: IncomingMessage | FastifyRequest): string | null {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : null;
}

/** The current request's id (the service's own, its X-Request-Id answer), or null outside a request (jobs, CLI). */
export function currentRequestId(): string | null {
  return storage.getStore()?.requestId ?? null;
}

/** The current request's client-supplied X-Request-Id, kept beside the service's own; null when none. */
export function currentClientRequestId(): string | null {
  return storage.getStore()?.clientRequestId ?? null;
}

const STARTED = Symbol('requestStarted');
const LOG = Symbol('requestLog');
type Logged = FastifyRequest & { [STARTED]?: number; [LOG]?: () => Pino };

/**
 * Every request, from its first hook: answers X-Request-Id (and X-Client-Request-Id), runs the
 * rest of the request inside its context (log lines name the request; audit entries record its
 * ids) and logs one `request completed` line at info. Query strings can carry phone numbers: the
 * line names the path only. Nothing is built for that line when info is off.
 */
@Injectable()
export class RequestContextHooks implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify?.addHook) return;
    const root = (PinoLogger as unknown as { root: Pino }).root;
    fastify.addHook('onRequest', (req, reply, done) => {
      const context: RequestContext = { requestId: String(req.id), clientRequestId: clientRequestId(req) };
      void reply.header('X-Request-Id', context.requestId);
      if (context.clientRequestId !== null) void reply.header('X-Client-Request-Id', context.clientRequestId);
      // The request's logger is made on first use: a request that logs nothing (most, below info)
      // builds none.
      let log: Pino | undefined;
      const logger = () =>
        (log ??= root.child({
          req: { id: context.requestId, method: req.method, path: req.url.split('?')[0] },
          service: 'sms-service',
          ...(context.clientRequestId === null ? {} : { clientRequestId: context.clientRequestId }),
        }));
      (req as Logged)[STARTED] = performance.now();
      (req as Logged)[LOG] = logger;
      const store = {
        ...context,
        get logger() {
          return logger();
        },
        responseLogger: undefined,
      } as Store;
      storage.run(store, done);
    });
    fastify.addHook('onResponse', (req, reply, done) => {
      const logger = (req as Logged)[LOG];
      if (logger && root.isLevelEnabled('info') && !req.url.startsWith('/health')) {
        const log = logger();
        const started = (req as Logged)[STARTED] ?? performance.now();
        log.info(
          { res: { statusCode: reply.statusCode }, responseTime: Math.round(performance.now() - started) },
          'request completed',
        );
      }
      done();
    });
  }
}
