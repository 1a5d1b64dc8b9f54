/**
 * A/B variants of a template: the declaration checks (pure) and the choice of a recipient's
 * variant. Imports nothing from Nest, TypeORM or Redis.
 */
import { pickVariant } from '../core/variants';
import { compareDeclaredVariables } from './render';
import type { VariableProblem } from './template-rules';

/** One variant as stored on the template (`sms_templates.variants`). */
export interface TemplateVariant {
  key: string;
  /** A positive integer; the variant's share is its weight over the sum. */
  weight: number;
  /** Text per language code: the same languages as the template's own content. */
  content: Record<string, string>;
}

export const MIN_VARIANTS = 2;
export const MAX_VARIANTS = 10;
export const MAX_VARIANT_WEIGHT = 10_000;
export const VARIANT_KEY = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Every problem of a set of variants, each naming its field (`variants`, `variants[1].key`,
 * `variants[0].content_tr`...): two to ten variants, keys unique, weights positive integers, each
 * body in exactly the template's languages and using exactly the declared variables.
 */
export function variantProblems(
  variants: readonly TemplateVariant[],
  template: { content: Record<string, string>; variables: string[] },
): VariableProblem[] {
  const problems: VariableProblem[] = [];
  if (variants.length < MIN_VARIANTS || variants.length > MAX_VARIANTS)
    problems.push({
      field: 'variants',
      errors: [`variants must list ${MIN_VARIANTS} to ${MAX_VARIANTS} variants (null ends the test)`],
    });
  const seen = new Set<string>();
  const languages = Object.keys(template.content);
  variants.forEach((v, i) => {
    const at = `variants[${i}]`;
    if (typeof v.key !== 'string' || !VARIANT_KEY.test(v.key))
      problems.push({ field: `${at}.key`, errors: [`${at}.key must be 1 to 32 of A-Z, a-z, 0-9, _ and -`] });
    else if (seen.has(v.key))
      problems.push({ field: `${at}.key`, errors: [`${at}.key "${v.key}" is used by another variant`] });
    else seen.add(v.key);
    if (!Number.isInteger(v.weight) || v.weight < 1 || v.weight > MAX_VARIANT_WEIGHT)
      problems.push({
        field: `${at}.weight`,
        errors: [`${at}.weight must be a positive integer (1 to ${MAX_VARIANT_WEIGHT})`],
      });
    for (const language of languages)
      if (typeof v.content[language] !== 'string' || v.content[language].trim() === '')
        problems.push({
          field: `${at}.content_${language}`,
          errors: [`${at}.content_${language} is required: the template has a text in ${language}`],
        });
    for (const language of Object.keys(v.content))
      if (!languages.includes(language))
        problems.push({
          field: `${at}.content_${language}`,
          errors: [`${at}.content_${language} is not allowed: the template has no text in ${language}`],
        });
    for (const p of compareDeclaredVariables(template.variables, v.content)) {
      const field = `${at}.content_${p.language}`;
      const errors = [
        p.undeclared.length ? `${field} uses undeclared ${p.undeclared.join(', ')}` : '',
        p.unused.length ? `${field} does not use declared ${p.unused.join(', ')}` : '',
      ].filter(Boolean);
      problems.push({ field, errors, undeclared: p.undeclared, unused: p.unused });
    }
  });
  return problems;
}

/** True when two sets of variants split recipients differently (other keys or weights): a new test. */
export function splitChanged(
  before: readonly TemplateVariant[] | null,
  after: readonly TemplateVariant[] | null,
): boolean {
  const shape = (vs: readonly TemplateVariant[] | null) =>
    vs === null ? '' : vs.map((v) => `${v.key}:${v.weight}`).join(',');
  return shape(before) !== shape(after);
}

/** The variant a recipient (E.164 number) gets in the template's running test. */
export function variantFor(
  template: {
    tenantId: number | null;
    templateId: string;
    variants: TemplateVariant[];
    variantTestId: string;
  },
  phoneNumber: string,
): TemplateVariant {
  return pickVariant(template.variants, {
    tenantId: template.tenantId ?? 0,
    templateId: template.templateId,
    testId: template.variantTestId,
    phoneNumber,
  });
}
