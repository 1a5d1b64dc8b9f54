import {
  applyDecorators,
  CallHandler,
  createParamDecorator,
  ExecutionContext,
  HttpCode,
  Injectable,
  NestInterceptor,
  Type,
  UseInterceptors,
} from '@nestjs/common';
import { ApiAcceptedResponse, ApiHeader } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { map, Observable } from 'rxjs';
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

/** An accept result presented as the HTTP body B, with what the headers need. */
export interface Presented<B> {
  body: B;
  replayed: boolean;
  rateLimit: Accepted['rateLimit'];
}

/** What a sending route returns: the service's domain result shaped by the route's mapper. */
export function presentAccepted<B>(accepted: Accepted, toBody: (r: AcceptResult) => B): Presented<B> {
  return { body: toBody(accepted.result), replayed: accepted.replayed, rateLimit: accepted.rateLimit };
}

/** Turns a route's `Presented<B>` into the body B, with rate-limit and replay headers. */
@Injectable()
export class AcceptedInterceptor<B> implements NestInterceptor<Presented<B>, B> {
  intercept(ctx: ExecutionContext, next: CallHandler<Presented<B>>): Observable<B> {
    const res = ctx.switchToHttp().getResponse<FastifyReply>();
    // Before the validation pipe: class-transformer recurses once per level and overflows the
    // stack on a very deep object (a 500); a metadata over its limits is a 400 naming the field.
    const body = ctx.switchToHttp().getRequest<{ body?: unknown }>().body;
    if (body !== null && typeof body === 'object' && 'metadata' in body) checkMetadata(body.metadata);
    return next.handle().pipe(
      map((accepted) => {
        if (accepted.rateLimit)
          for (const [k, v] of Object.entries(rateLimitHeaders(accepted.rateLimit))) res.header(k, v);
        if (accepted.replayed) res.header('Idempotent-Replayed', 'true');
        return accepted.body;
      }),
    );
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
    UseInterceptors(AcceptedInterceptor),
  );
}
