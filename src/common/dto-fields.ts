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
import { MAX_VALIDITY_SECONDS, MIN_VALIDITY_SECONDS } from '../core/validity';

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

const VALIDITY_BOUNDS = `validity_seconds must be between ${MIN_VALIDITY_SECONDS} and ${MAX_VALIDITY_SECONDS} (72 hours)`;

/**
 * `validity_seconds`: how long the message may wait to be handed to a provider, counted from when
 * it is due (its scheduled time, else acceptance); past it the message ends `expired`, never sent
 * and never charged. A whole number of seconds, 1 to 259200 (72 hours); null or absent: the
 * default (a template's own, else the type's: a code's lifetime for codes, none for the others).
 */
export function ValiditySecondsField(description?: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: 'integer',
      nullable: true,
      minimum: MIN_VALIDITY_SECONDS,
      maximum: MAX_VALIDITY_SECONDS,
      example: 300,
      description:
        description ??
        "seconds the message may wait to be handed to a provider, from when it is due; past it the message ends `expired` (never sent, never charged). Default: the template's, else a code's own lifetime for codes, else none",
    }),
    IsOptional(),
    IsInt({ message: 'validity_seconds must be a whole number of seconds' }),
    Min(MIN_VALIDITY_SECONDS, { message: VALIDITY_BOUNDS }),
    Max(MAX_VALIDITY_SECONDS, { message: VALIDITY_BOUNDS }),
  );
}
