import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError, ValidationFailedError } from './errors';
import { cacheValidationMetadata } from './validation-metadata-cache';

/** Flattens class-validator's tree into `[{field: 'a.b[0]', errors}]`. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const field =
      parent === ''
        ? e.property
        : /^\d+$/.test(e.property)
          ? `${parent}[${e.property}]`
          : `${parent}.${e.property}`;
    if (e.constraints) {
      out.push({
        field,
        errors: Object.entries(e.constraints).map(([key, msg]) =>
          key === 'whitelistValidation' ? `${field} is not an accepted field` : msg,
        ),
      });
    }
    if (e.children?.length) out.push(...flattenValidationErrors(e.children, field));
  }
  return out;
}

/** Dates the service accepts anywhere in input (query, body): years 2000 to 2100 inclusive. */
export const MIN_INPUT_DATE = new Date('2000-01-01T00:00:00Z');
export const MAX_INPUT_DATE = new Date('2101-01-01T00:00:00Z');

export function isSaneDate(d: Date): boolean {
  const t = d.getTime();
  return t >= MIN_INPUT_DATE.getTime() && t < MAX_INPUT_DATE.getTime();
}

/** Every Date in a transformed DTO outside 2000..2100 (JS accepts years -271821..275760). */
export function dateRangeProblems(value: unknown): FieldError[] {
  const out: FieldError[] = [];
  const walk = (v: unknown, path: string, depth: number) => {
    if (v instanceof Date) {
      if (!Number.isNaN(v.getTime()) && !isSaneDate(v))
        out.push({ field: path, errors: [`${path} must be between the years 2000 and 2100`] });
      return;
    }
    if (typeof v !== 'object' || v === null || depth > 8) return;
    const isArray = Array.isArray(v);
    for (const [k, c] of Object.entries(v)) {
      walk(c, isArray ? `${path}[${k}]` : path === '' ? k : `${path}.${k}`, depth + 1);
    }
  };
  walk(value, '', 0);
  return out;
}

/**
 * class-validator's checks, then one shared rule class-validator lacks: every date in the input
 * lies in 2000..2100 (PostgreSQL refuses JS's extreme years with an error, not a 400).
 */
class AppValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const out: unknown = await super.transform(value, metadata);
    if (metadata.type === 'custom') return out;
    const details = dateRangeProblems(out instanceof Date && metadata.data ? { [metadata.data]: out } : out);
    if (details.length > 0) {
      throw new ValidationFailedError(details.map((d) => d.errors.join(', ')).join('; '), details);
    }
    return out;
  }
}

export function createValidationPipe(): ValidationPipe {
  cacheValidationMetadata();
  return new AppValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => {
      const details = flattenValidationErrors(errors);
      const message = details.map((d) => d.errors.join(', ')).join('; ');
      return new ValidationFailedError(message || 'validation failed', details);
    },
  });
}
