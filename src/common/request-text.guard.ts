import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { FieldError, ValidationFailedError } from './errors';
import { unsafeTextProblems } from './request-text';

/**
 * Global, last guard (after auth and the request-rate limit, so refused requests still count):
 * refuses NUL, lone surrogates, `__proto__`/`constructor` keys and absurd nesting in every string
 * of the request (body, query, path params) with one 400 naming the fields, before any DTO,
 * service or database sees them. Public routes (webhooks, health) are checked too.
 */
@Injectable()
export class RequestTextGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    if (ctx.getType() !== 'http') return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const problems: FieldError[] = [
      ...unsafeTextProblems(req.params ?? {}),
      ...unsafeTextProblems(req.query ?? {}),
      ...unsafeTextProblems(req.body as unknown),
    ];
    if (problems.length === 0) return true;
    const message = problems.map((p) => p.errors.join(', ')).join('; ');
    throw new ValidationFailedError(message, problems);
  }
}
