import { INestApplication } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { NextFunction, Request, Response } from 'express';
import passport from 'passport';
import { isAdmin, Principal } from './auth/principal';
import { bodyParser } from './common/body-parsers';
import { ErrorBody } from './common/exception.filter';
import { AppConfig } from './config/app-config';
import { createValidationPipe } from './common/validation';
import { createOpenApiDocument } from './openapi/openapi';

const MIB = 1024 * 1024;

/** HTTP settings shared by main.ts and the e2e tests, so tests exercise what production runs. */
export function configureApp(app: INestApplication): void {
  const express = app as NestExpressApplication;
  // Each parser answers a body it cannot read itself (413/415/400), as the webhooks' own does.
  express.use('/api/sms/recipients', bodyParser('json', { limit: 8 * MIB })); // 10,000-row directory uploads
  express.use(bodyParser('json', { limit: MIB }));
  express.use(bodyParser('urlencoded', { limit: MIB }));
  express.disable('x-powered-by');
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();

  const docsMode = app.get(AppConfig).get('API_DOCS');
  if (docsMode === 'off') return; // /api/docs and /api/docs-json answer 404 like any unknown path
  if (docsMode === 'auth') express.use(['/api/docs', '/api/docs-json'], requireAdminToken);

  SwaggerModule.setup('api/docs', app, () => createOpenApiDocument(app), {
    jsonDocumentUrl: 'api/docs-json',
  });
}

function sendError(res: Response, body: ErrorBody): void {
  res.status(body.statusCode).json(body);
}

/**
 * API_DOCS=auth: the docs need a bearer token of an admin or super_admin, verified by the same
 * JWT strategy (and rules) as the API. Middleware, because Swagger's routes are not Nest routes.
 */
function requireAdminToken(req: Request, res: Response, next: NextFunction): void {
  const authenticate = passport.authenticate(
    'jwt',
    { session: false },
    (err: unknown, user: Principal | false, info: unknown) => {
      if (err || !user) {
        const message =
          info instanceof Error && info.name === 'TokenExpiredError'
            ? 'token expired'
            : 'missing or invalid bearer token';
        return sendError(res, { statusCode: 401, error: 'Unauthorized', message });
      }
      if (!isAdmin(user))
        return sendError(res, {
          statusCode: 403,
          error: 'Forbidden',
          message: 'requires role admin or super_admin',
        });
      next();
    },
  ) as (req: Request, res: Response, next: NextFunction) => void;
  authenticate(req, res, next);
}
