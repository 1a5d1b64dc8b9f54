import { applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';

/** The one error shape (see AppExceptionFilter). */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ example: 'Bad Request' }) error: string;
  @ApiProperty({ example: 'phone_number: phone_number is not valid (too_short)' }) message: string;
  @ApiPropertyOptional({
    example: [{ field: 'phone_number', errors: ['phone_number is not valid (too_short)'] }],
  })
  details?: unknown;
  @ApiPropertyOptional({ description: 'on 500 only: quote it to operators, it is in the log' })
  errorId?: string;
}

/** The errors every authenticated API route can answer, in Swagger. */
export function ApiErrors(): ClassDecorator & MethodDecorator {
  return applyDecorators(
    ApiBadRequestResponse({ type: ErrorResponseDto, description: 'invalid input; nothing changed' }),
    ApiUnauthorizedResponse({ type: ErrorResponseDto, description: 'missing, malformed or expired token' }),
    ApiForbiddenResponse({ type: ErrorResponseDto, description: 'role missing or tenant deactivated' }),
    ApiNotFoundResponse({ type: ErrorResponseDto, description: 'unknown here, or another tenant’s' }),
    ApiTooManyRequestsResponse({ type: ErrorResponseDto, description: 'rate limit; see Retry-After' }),
  );
}
