/**
 * Template rules that need no I/O: declaration checks on create/update, variable checks at send
 * time, the language choice. Pure: imports nothing from Nest, TypeORM or Redis.
 */
import type { FieldError } from '../common/errors';
import type { MessageType } from '../core/message-types';
import { DeclarationProblem, MAX_VARIABLE_LENGTH, sanitizeVariableValue } from './render';

/** A 400's `details` entry: the field, its errors, and what exactly is wrong. */
export interface VariableProblem extends FieldError {
  missing?: string[];
  unknown?: string[];
  undeclared?: string[];
  unused?: string[];
}

/**
 * The templates verification codes are sent with. A tenant may override their text, but not their
 * type (the type is what redacts the code in storage) nor their one variable, `code`.
 */
export const CODE_TEMPLATES: Readonly<Record<string, MessageType>> = {
  password_reset: 'password_reset',
  '2fa_code': '2fa_code',
};

/** The 400 for content whose placeholders differ from the declared variables, or null. */
export function declarationError(
  problems: DeclarationProblem[],
): { message: string; details: VariableProblem[] } | null {
  if (problems.length === 0) return null;
  const message = problems
    .flatMap((p) => [
      p.undeclared.length ? `content_${p.language} uses undeclared ${p.undeclared.join(', ')}` : '',
      p.unused.length ? `content_${p.language} does not use declared ${p.unused.join(', ')}` : '',
    ])
    .filter(Boolean)
    .join('; ');
  return {
    message,
    details: problems.map((p) => ({
      field: `content_${p.language}`,
      errors: [message],
      undeclared: p.undeclared,
      unused: p.unused,
    })),
  };
}

/** A code template (own copy of `password_reset` / `2fa_code`) must keep its type and declare only `code`. */
export function codeTemplateProblems(
  templateId: string,
  messageType: MessageType,
  variables: string[],
): VariableProblem[] {
  const type = CODE_TEMPLATES[templateId];
  if (type === undefined) return [];
  const problems: VariableProblem[] = [];
  if (messageType !== type)
    problems.push({
      field: 'message_type',
      errors: [`template "${templateId}" must have message_type ${type}`],
    });
  if (variables.length !== 1 || variables[0] !== 'code')
    problems.push({ field: 'variables', errors: [`template "${templateId}" must declare exactly: code`] });
  return problems;
}

/**
 * Send-time checks: every declared variable given, no unknown one, each value text or a number
 * that is at most MAX_VARIABLE_LENGTH characters once made plain text.
 */
export function sendVariableProblems(
  declared: string[],
  variables: Record<string, unknown>,
): VariableProblem[] {
  const known = new Set(declared);
  const given = (name: string) => Object.prototype.hasOwnProperty.call(variables, name);
  const missing = declared.filter((v) => !given(v));
  const unknown = Object.keys(variables).filter((k) => !known.has(k));
  const problems: VariableProblem[] = [];
  if (missing.length)
    problems.push({ field: 'variables', errors: [`missing variables: ${missing.join(', ')}`], missing });
  if (unknown.length)
    problems.push({ field: 'variables', errors: [`unknown variables: ${unknown.join(', ')}`], unknown });
  for (const [name, value] of Object.entries(variables)) {
    if (!known.has(name)) continue;
    if (typeof value !== 'string' && typeof value !== 'number') {
      problems.push({ field: `variables.${name}`, errors: [`variables.${name} must be text or a number`] });
    } else if ([...sanitizeVariableValue(value)].length > MAX_VARIABLE_LENGTH) {
      problems.push({
        field: `variables.${name}`,
        errors: [`variables.${name} is longer than ${MAX_VARIABLE_LENGTH} characters`],
      });
    }
  }
  return problems;
}

/** Requested language → the tenant's default → en; a template without that language is sent in en. */
export function chooseLanguage(
  content: Record<string, string>,
  requested: string | undefined,
  tenantDefault: string | undefined,
): string {
  const wanted = requested ?? tenantDefault ?? 'en';
  return content[wanted] ? wanted : 'en';
}
