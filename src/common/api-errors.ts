import { applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiTooManyRequestsResponse,
  ApiExtension,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';

/** The one error shape (see AppExceptionFilter). */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ example: 'Bad Request' }) error: string;
  @ApiProperty({ example: 'phone_number: phone_number is not valid (too_short)' }) message: string;
  @ApiPropertyOptional({
    description:
      'what was wrong, always a list: `errors` in every entry; `field` when a field is at fault (400: one entry per field); `rule` names the rule a refusal applied (429, 402, …), and the rule adds its figures (e.g. `limit`, `used`, `retry_after_seconds`)',
    type: 'array',
    items: {
      type: 'object',
      properties: {
        field: { type: 'string' },
        errors: { type: 'array', items: { type: 'string' } },
        rule: { type: 'string' },
      },
      required: ['errors'],
      additionalProperties: true,
    },
    example: [{ field: 'phone_number', errors: ['phone_number is not valid (too_short)'] }],
  })
  details?: unknown;
  @ApiPropertyOptional({ description: 'on 500 only: quote it to operators, it is in the log' })
  errorId?: string;
}

/**
 * The errors every authenticated API route can answer, in Swagger. (The OpenAPI document adds the
 * rest generically: 500/503 everywhere, 413/415 with a body, 409/422 with an Idempotency-Key, and
 * the response headers; see src/openapi/openapi.ts.)
 */
export function ApiErrors(): ClassDecorator & MethodDecorator {
  return applyDecorators(
    ApiBadRequestResponse({ type: ErrorResponseDto, description: 'invalid input; nothing changed' }),
    ApiUnauthorizedResponse({ type: ErrorResponseDto, description: 'missing, malformed or expired token' }),
    ApiForbiddenResponse({ type: ErrorResponseDto, description: 'role missing or tenant deactivated' }),
    ApiNotFoundResponse({ type: ErrorResponseDto, description: 'unknown here, or another tenant’s' }),
    ApiTooManyRequestsResponse({ type: ErrorResponseDto, description: 'rate limit; see Retry-After' }),
  );
}

/**
 * Marks a route that touches neither PostgreSQL nor Redis, so the contract does not promise a 503
 * for it (see src/openapi/openapi.ts, which adds the shared statuses to every operation).
 */
export function ApiNoDependencies(): MethodDecorator & ClassDecorator {
  return ApiExtension('x-no-dependencies', true);
}
