import { ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError, ValidationFailedError } from './errors';

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

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
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
