import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, Length } from 'class-validator';

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
