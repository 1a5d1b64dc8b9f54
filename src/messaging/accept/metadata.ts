import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, ValidateBy, ValidationArguments } from 'class-validator';
import { ValidationFailedError } from '../../common/errors';

/** Limits on a message's free-form `metadata` (it used to be copied per row, unbounded). */
export const METADATA_LIMITS = { maxBytes: 4096, maxDepth: 5, maxKeys: 50 } as const;

/**
 * Why `metadata` is refused, or null. Walks without recursion and stops at the first limit, so a
 * 5,000-deep object costs a few steps, not a stack overflow. Depth: `{a: 1}` is 1, `{a: {b: 1}}` 2.
 */
export function metadataProblem(value: unknown): string | null {
  if (value === undefined) return null;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return 'metadata must be a JSON object';
  const { maxBytes, maxDepth, maxKeys } = METADATA_LIMITS;
  let keys = 0;
  const stack: { node: object; depth: number }[] = [{ node: value, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as { node: object; depth: number };
    if (depth > maxDepth) return `metadata is nested deeper than ${maxDepth} levels`;
    const children = Array.isArray(node) ? node : Object.values(node);
    if (!Array.isArray(node)) keys += Object.keys(node).length;
    if (keys > maxKeys) return `metadata has more than ${maxKeys} keys in total`;
    for (const c of children as unknown[])
      if (c !== null && typeof c === 'object') stack.push({ node: c, depth: depth + 1 });
  }
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > maxBytes) return `metadata is ${bytes} bytes as JSON; at most ${maxBytes}`;
  return null;
}

/** Throws the 400 naming `metadata` when it is over a limit. */
export function checkMetadata(value: unknown): void {
  const problem = metadataProblem(value);
  if (problem) throw ValidationFailedError.field('metadata', problem);
}

/** The `metadata` body field: an optional JSON object within METADATA_LIMITS (400 naming `metadata`). */
export function MetadataField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      description: `free-form JSON kept with the message: at most ${METADATA_LIMITS.maxBytes} bytes, ${METADATA_LIMITS.maxDepth} levels, ${METADATA_LIMITS.maxKeys} keys in total`,
      example: { appointment_id: 123 },
    }),
    IsOptional(),
    ValidateBy({
      name: 'metadata',
      validator: {
        validate: (v: unknown) => metadataProblem(v) === null,
        defaultMessage: (args?: ValidationArguments) =>
          metadataProblem(args?.value) ?? 'metadata is not valid',
      },
    }),
  );
}
