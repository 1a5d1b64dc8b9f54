import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import passport from 'passport';
import { isAdmin, Principal } from './auth/principal';
import { registerBodyParsers } from './common/body-parsers';
import { ErrorBody } from './common/exception.filter';
import { AppConfig } from './config/app-config';
import { createValidationPipe } from './common/validation';
import { createOpenApiDocument } from './openapi/openapi';

/** The largest body any route reads (the recipients upload); each route's own limit is lower or equal. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * The HTTP server: Fastify, for its request throughput (docs/ARCHITECTURE.md, "HTTP layer").
 * Shared by main.ts and the e2e tests, so tests exercise what production runs.
 */
export function createHttpAdapter(trustProxy: false | number | string[] = false): FastifyAdapter {
  return new FastifyAdapter({
    // TRUST_PROXY: whose X-Forwarded-For gives `request.ip` (the tracked-link redirect's limit).
    trustProxy,
    bodyLimit: MAX_BODY_BYTES,
    // The request id is always the service's own, so no two requests share one (a client's id
    // could repeat); a client's X-Request-Id is kept beside it (logging/request-context.ts).
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Fastify's own request log is off: requests are logged by the app's logger (logging module).
    logger: false,
    // A path matches with or without its trailing slash, as it did under Express.
    routerOptions: { ignoreTrailingSlash: true },
  });
}

/** HTTP settings shared by main.ts and the e2e tests, so tests exercise what production runs. */
export function configureApp(app: NestFastifyApplication): void {
  registerBodyParsers(app.getHttpAdapter().getInstance());
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();

  const docsMode = app.get(AppConfig).get('API_DOCS');
  if (docsMode === 'off') return; // /api/docs and /api/docs-json answer 404 like any unknown path
  if (docsMode === 'auth') {
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onRequest', (req, reply, done) => {
        const path = req.url.split('?')[0];
        if (path === '/api/docs' || path.startsWith('/api/docs/') || path.startsWith('/api/docs-json'))
          requireAdminToken(req, reply, done);
        else done();
      });
  }

  SwaggerModule.setup('api/docs', app, () => createOpenApiDocument(app), {
    jsonDocumentUrl: 'api/docs-json',
  });
}

function sendError(reply: FastifyReply, body: ErrorBody): void {
  void reply.status(body.statusCode).send(body);
}

/**
 * API_DOCS=auth: the docs need a bearer token of an admin or super_admin, verified by the same
 * JWT strategy (and rules) as the API. A hook, because Swagger's routes are not Nest routes.
 */
function requireAdminToken(req: FastifyRequest, reply: FastifyReply, next: () => void): void {
  const authenticate = passport.authenticate(
    'jwt',
    { session: false },
    (err: unknown, user: Principal | false, info: unknown) => {
      if (err || !user) {
        const message =
          info instanceof Error && info.name === 'TokenExpiredError'
            ? 'token expired'
            : 'missing or invalid bearer token';
        return sendError(reply, { statusCode: 401, error: 'Unauthorized', message });
      }
      if (!isAdmin(user))
        return sendError(reply, {
          statusCode: 403,
          error: 'Forbidden',
          message: 'requires role admin or super_admin',
        });
      next();
    },
  ) as (req: FastifyRequest, res: FastifyReply, next: () => void) => void;
  authenticate(req, reply, next);
}
