import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsInt,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
  ValidateBy,
  ValidationArguments,
} from 'class-validator';

/** `user_id`: the platform user a message is for; a number is accepted and kept as text. */
export function UserIdField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ example: '456', description: 'the platform user the message is for' }),
    IsOptional(),
    Transform(({ value }: { value: unknown }) => (typeof value === 'number' ? String(value) : value)),
    IsString(),
    Length(1, 64),
  );
}

/** An ISO 8601 date-time with an explicit offset: `Z` or `±hh:mm` (seconds and fractions optional). */
const DATE_TIME_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * A date-time field that must carry its offset, so it never depends on the server's time zone
 * (`2026-12-15T10:00:00Z`, `2026-12-15T13:00:00+03:00`). Replaces `@Type(() => Date)` + `@IsDate()`:
 * the value becomes a Date only when it has an offset; anything else is a 400 naming the field.
 */
export function DateTimeWithOffset(): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' && DATE_TIME_WITH_OFFSET.test(value) ? new Date(value) : value,
    ),
    ValidateBy({
      name: 'isDateTimeWithOffset',
      validator: {
        validate: (value: unknown) => value instanceof Date && !Number.isNaN(value.getTime()),
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property ?? 'value'} must be an ISO 8601 date-time with an offset (Z or ±hh:mm), e.g. 2026-12-15T10:00:00Z`,
      },
    }),
  );
}

/** `limit` of a cursor-paged list: 1-200, 50 when absent. */
export function PageLimitField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ default: 50, maximum: 200 }),
    IsOptional(),
    Type(() => Number),
    IsInt(),
    Min(1),
    Max(200),
  );
}

/** `cursor` of a cursor-paged list: the previous page's opaque `next_cursor`. */
export function PageCursorField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ description: 'next_cursor of the previous page' }),
    IsOptional(),
    IsString(),
    Length(1, 200),
  );
}
