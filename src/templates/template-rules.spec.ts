import { compareDeclaredVariables } from './render';
import {
  chooseLanguage,
  codeTemplateProblems,
  declarationError,
  sendVariableProblems,
} from './template-rules';

describe('template rules', () => {
  describe('declarationError', () => {
    it('accepts content whose placeholders are exactly the declared variables', () => {
      expect(
        declarationError(compareDeclaredVariables(['name'], { en: 'Hi {{ name }}', tr: 'Selam {{name}}' })),
      ).toBeNull();
    });

    it('names the undeclared and the unused variables per language', () => {
      const e = declarationError(
        compareDeclaredVariables(['name'], { en: 'Hi {{name}}', tr: 'Hoş geldiniz {{ad}}!' }),
      );
      expect(e?.message).toBe('content_tr uses undeclared ad; content_tr does not use declared name');
      expect(e?.details).toEqual([
        { field: 'content_tr', errors: [e?.message], undeclared: ['ad'], unused: ['name'] },
      ]);
    });
  });

  describe('codeTemplateProblems', () => {
    it('lets a tenant reword a code template that keeps its type and its code variable', () => {
      expect(codeTemplateProblems('2fa_code', '2fa_code', ['code'])).toEqual([]);
    });

    it('refuses a code template that changes its type, since the type is what redacts the code', () => {
      expect(codeTemplateProblems('password_reset', 'general_notification', ['code'])).toEqual([
        {
          field: 'message_type',
          errors: ['template "password_reset" must have message_type password_reset'],
        },
      ]);
    });

    it('refuses a code template with other variables than code', () => {
      expect(codeTemplateProblems('2fa_code', '2fa_code', ['otp'])[0].field).toBe('variables');
    });

    it('has nothing to say about other templates', () => {
      expect(codeTemplateProblems('welcome_message', 'general_notification', ['name'])).toEqual([]);
    });
  });

  describe('sendVariableProblems', () => {
    const declared = ['date', 'time', 'trainer_name', 'location'];

    it('lists every missing variable in declaration order', () => {
      expect(sendVariableProblems(declared, { date: 'today' })).toEqual([
        {
          field: 'variables',
          errors: ['missing variables: time, trainer_name, location'],
          missing: ['time', 'trainer_name', 'location'],
        },
      ]);
    });

    it('lists unknown variables', () => {
      expect(sendVariableProblems(['code'], { code: '1', extra: 'x' })).toEqual([
        { field: 'variables', errors: ['unknown variables: extra'], unknown: ['extra'] },
      ]);
    });

    it('accepts text and numbers', () => {
      expect(sendVariableProblems(['a', 'b'], { a: 'Ayşe 🎉', b: 42 })).toEqual([]);
    });

    it('refuses null, objects, lists and booleans', () => {
      const problems = sendVariableProblems(['a', 'b', 'c', 'd'], { a: null, b: {}, c: [], d: true });
      expect(problems.map((p) => p.field)).toEqual([
        'variables.a',
        'variables.b',
        'variables.c',
        'variables.d',
      ]);
    });

    it('counts characters, not UTF-16 units, against the 200 limit', () => {
      expect(sendVariableProblems(['m'], { m: '🎉'.repeat(200) })).toEqual([]);
      expect(sendVariableProblems(['m'], { m: 'ş'.repeat(201) })[0]).toMatchObject({ field: 'variables.m' });
    });

    it('measures a value after its control characters are stripped', () => {
      expect(sendVariableProblems(['m'], { m: 'x'.repeat(200) + '\u0007\u0000' })).toEqual([]);
    });
  });

  describe('chooseLanguage', () => {
    const both = { en: 'Hi', tr: 'Merhaba' };

    it('uses the requested language', () => {
      expect(chooseLanguage(both, 'tr', 'en')).toBe('tr');
    });

    it("uses the tenant's default language when none is requested", () => {
      expect(chooseLanguage(both, undefined, 'tr')).toBe('tr');
    });

    it('uses English when neither is given', () => {
      expect(chooseLanguage(both, undefined, undefined)).toBe('en');
    });

    it('falls back to English when the template has no text in the language', () => {
      expect(chooseLanguage({ en: 'Hi' }, 'tr', undefined)).toBe('en');
    });
  });
});
