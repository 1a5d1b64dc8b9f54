import { INestApplication } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { json, NextFunction, Request, Response, urlencoded } from 'express';
import { bodyParserErrorBody } from './common/exception.filter';
import { createValidationPipe } from './common/validation';

/** HTTP settings shared by main.ts and the e2e tests, so tests exercise what production runs. */
export function configureApp(app: INestApplication): void {
  const express = app as NestExpressApplication;
  express.use(json({ limit: '1mb' }));
  express.use(urlencoded({ limit: '1mb', extended: false }));
  // Answer unreadable bodies here, in the shared error shape, before Nest rewrites the message.
  express.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const body = bodyParserErrorBody(err);
    if (body) res.status(body.statusCode).json(body);
    else next(err);
  });
  express.disable('x-powered-by');
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();

  const doc = new DocumentBuilder()
    .setTitle('SMS service')
    .setDescription(
      'Multi-tenant SMS: Twilio with automatic AWS SNS fallback, templates (en, tr), scheduling, campaigns, ' +
        'verification codes, delivery tracking and cost reports. Authenticate with a platform-signed HS256 JWT.',
    )
    .setVersion('1.0')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, doc), {
    jsonDocumentUrl: 'api/docs-json',
  });
}
