/** Template placeholders `{{ name }}`: extraction, validation and rendering. Pure; never evaluates code. */

/** `{{name}}` with optional whitespace inside the braces; names are identifiers. */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
export const MAX_VARIABLE_LENGTH = 200;

/** Unique placeholder names, in order of first use. `{{{x}}}` is the placeholder x between literal braces. */
export function extractPlaceholders(content: string): string[] {
  return [...new Set([...content.matchAll(PLACEHOLDER)].map((m) => m[1]))];
}

/** A value as plain text: control characters (C0, C1, DEL) removed, line breaks and tabs made spaces. */
export function sanitizeVariableValue(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\r\n\t]+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}

/**
 * Substitutes every placeholder in one pass: a value that itself contains `{{x}}` is not expanded
 * again. Placeholders without a value stay as they are and are listed in `missing`.
 */
export function renderTemplate(
  content: string,
  variables: Record<string, unknown>,
): { text: string; missing: string[] } {
  const missing = new Set<string>();
  const text = content.replace(PLACEHOLDER, (whole, name: string) => {
    if (!Object.prototype.hasOwnProperty.call(variables, name)) {
      missing.add(name);
      return whole;
    }
    return sanitizeVariableValue(variables[name]);
  });
  return { text, missing: [...missing] };
}

export interface DeclarationProblem {
  language: string;
  /** Used in the content but not declared. */
  undeclared: string[];
  /** Declared but not used in this language. */
  unused: string[];
}

/** For create/update: each language must use exactly the declared variables. Only problems are listed. */
export function compareDeclaredVariables(
  declared: string[],
  contents: Record<string, string>,
): DeclarationProblem[] {
  const want = new Set(declared);
  const problems: DeclarationProblem[] = [];
  for (const [language, content] of Object.entries(contents)) {
    const used = new Set(extractPlaceholders(content));
    const undeclared = [...used].filter((v) => !want.has(v));
    const unused = [...want].filter((v) => !used.has(v));
    if (undeclared.length || unused.length) problems.push({ language, undeclared, unused });
  }
  return problems;
}
