import {
  applyDecorators,
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  HttpCode,
  Injectable,
  Type,
  UseGuards,
} from '@nestjs/common';
import { ApiAcceptedResponse, ApiHeader } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AuthedRequest } from '../../auth/decorators';
import { ValidationFailedError } from '../../common/errors';
import { Accepted, AcceptResult, SendContext } from './accept.types';
import { rateLimitHeaders } from '../policies/rate-limiter.service';
import { checkMetadata } from './metadata';

/**
 * What every sending route hands to the services: the caller, the Idempotency-Key header and the
 * route + body the key is bound to.
 */
export const SendCtx = createParamDecorator((_: unknown, ctx: ExecutionContext): SendContext => {
  const req = ctx.switchToHttp().getRequest<AuthedRequest>();
  if (!req.user) throw new Error('SendCtx used on a public route');
  const header = req.headers['idempotency-key'];
  const key = typeof header === 'string' ? header : undefined;
  if (key !== undefined && !/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw ValidationFailedError.field(
      'Idempotency-Key',
      'Idempotency-Key must be 1-255 printable ASCII characters',
    );
  }
  return {
    principal: req.user,
    idempotencyKey: key,
    route: `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}`,
    requestBody: req.body,
  };
});

/**
 * A sending route's reply: `present` sets the rate-limit and replay headers of an accept and
 * returns the route's body. A parameter rather than an interceptor: no Observable per request.
 */
export interface AcceptedReply {
  present<B>(accepted: Accepted, toBody: (r: AcceptResult) => B): B;
}

export const Reply = createParamDecorator((_: unknown, ctx: ExecutionContext): AcceptedReply => {
  const res = ctx.switchToHttp().getResponse<FastifyReply>();
  return {
    present(accepted, toBody) {
      if (accepted.rateLimit)
        for (const [k, v] of Object.entries(rateLimitHeaders(accepted.rateLimit))) res.header(k, v);
      if (accepted.replayed) res.header('Idempotent-Replayed', 'true');
      return toBody(accepted.result);
    },
  };
});

/**
 * Before the validation pipe (guards run first): class-transformer recurses once per level and
 * overflows the stack on a very deep object (a 500); a metadata over its limits is a 400 naming
 * the field.
 */
@Injectable()
export class MetadataShapeGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    const body = ctx.switchToHttp().getRequest<{ body?: unknown }>().body;
    if (body !== null && typeof body === 'object' && 'metadata' in body) checkMetadata(body.metadata);
    return true;
  }
}

/** A route that accepts messages: 202, Idempotency-Key, rate-limit headers. */
export function SendRoute(response: Type<unknown>): MethodDecorator {
  return applyDecorators(
    HttpCode(202),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: 'same key + same body within 24 h returns the first response and sends nothing',
    }),
    ApiAcceptedResponse({ type: response }),
    UseGuards(MetadataShapeGuard),
  );
}
