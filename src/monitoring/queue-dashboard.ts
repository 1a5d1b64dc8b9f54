import { createBullBoard } from '@bull-board/api';
import { BullAdapter } from '@bull-board/api/bullAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { getQueueToken } from '@nestjs/bull';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import type { Queue } from 'bull';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { DELIVERY_QUEUES } from '../messaging';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';
/**
 * The Bull queues of the service besides delivery, as registered by their modules. The delivery
 * queues (every shard's) come from messaging (DELIVERY_QUEUES) and are listed first.
 */
export const DASHBOARD_QUEUES = ['sms-jobs', 'sms-campaigns'] as const;

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * HTTP basic auth against one password (any user name). Both sides are hashed first, so the
 * comparison is constant-time whatever the lengths; the password never reaches a log.
 */
export function basicAuth(password: string) {
  const expected = digest(password);
  return (req: FastifyRequest, reply: FastifyReply, next: () => void): void => {
    const header = req.headers.authorization ?? '';
    const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header);
    const decoded = m ? Buffer.from(m[1], 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const given = colon >= 0 ? decoded.slice(colon + 1) : '';
    if (m && colon >= 0 && timingSafeEqual(digest(given), expected)) return next();
    void reply.header('WWW-Authenticate', 'Basic realm="queues", charset="UTF-8"').status(401).send({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'the queue dashboard needs basic auth with QUEUE_DASHBOARD_PASSWORD',
    });
  };
}

/**
 * The operators' Bull dashboard (bull-board) at /admin/queues, on the roles that serve HTTP. Closed
 * unless QUEUE_DASHBOARD_PASSWORD is set: then nothing is mounted and the path answers 404 like any
 * unknown one. A Fastify plugin of its own, outside Nest's guards: the bearer-token API and this
 * basic-auth page are separate doors.
 */
@Injectable()
export class QueueDashboard implements OnModuleInit {
  private readonly logger = new Logger(QueueDashboard.name);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: AppConfig,
    private readonly moduleRef: ModuleRef,
    @Inject(DELIVERY_QUEUES) private readonly deliveryQueues: Queue[],
  ) {}

  onModuleInit(): void {
    const password = this.config.get('QUEUE_DASHBOARD_PASSWORD');
    const http = this.adapterHost.httpAdapter;
    if (!password || !http || http.getType() !== 'fastify') return;
    const queues: Queue[] = [...this.deliveryQueues];
    for (const name of DASHBOARD_QUEUES) {
      try {
        queues.push(this.moduleRef.get<Queue>(getQueueToken(name), { strict: false }));
      } catch {
        this.logger.warn(`queue ${name} is not registered: left off the dashboard`);
      }
    }
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
    createBullBoard({ queues: queues.map((q) => new BullAdapter(q)), serverAdapter });
    const board = serverAdapter.registerPlugin();
    const auth = basicAuth(password);
    void http.getInstance<FastifyInstance>().register(
      (scope, _opts, done) => {
        scope.addHook('onRequest', (req, reply, next) => auth(req, reply, () => next()));
        void scope.register(board);
        done();
      },
      { prefix: QUEUE_DASHBOARD_PATH },
    );
    this.logger.log(`queue dashboard at ${QUEUE_DASHBOARD_PATH} (basic auth)`);
  }
}
