import { analyzeText } from '../core/encoding';
import {
  compareDeclaredVariables,
  extractPlaceholders,
  renderTemplate,
  sanitizeVariableValue,
} from './render';
import { DEFAULT_TEMPLATES } from '../../migrations/1764000200000-create-templates';

describe('template rendering', () => {
  it('allows whitespace inside the braces', () => {
    expect(renderTemplate('Hi {{ name }} and {{name}}', { name: 'Ayşe' }).text).toBe('Hi Ayşe and Ayşe');
  });

  it('substitutes a repeated variable everywhere', () => {
    expect(renderTemplate('{{x}}-{{x}}-{{x}}', { x: '1' }).text).toBe('1-1-1');
  });

  it('treats the outer braces of {{{x}}} as literal text', () => {
    expect(extractPlaceholders('{{{x}}}')).toEqual(['x']);
    expect(renderTemplate('{{{x}}}', { x: 'v' }).text).toBe('{v}');
  });

  it('leaves an unclosed or invalid placeholder as text', () => {
    expect(extractPlaceholders('{{ a b }} {{1x}} {{open')).toEqual([]);
  });

  it('keeps Turkish characters and emoji in values', () => {
    const { text } = renderTemplate('Merhaba {{ad}} {{e}}', { ad: 'Çağrı Işık', e: '🎉' });
    expect(text).toBe('Merhaba Çağrı Işık 🎉');
  });

  it('lists every missing name', () => {
    expect(renderTemplate('{{a}} {{b}} {{a}} {{c}}', { b: 1 }).missing).toEqual(['a', 'c']);
  });

  it('does not expand placeholders inside values', () => {
    expect(renderTemplate('{{a}}', { a: '{{b}}', b: 'secret' }).text).toBe('{{b}}');
  });

  it('strips control characters and flattens line breaks', () => {
    expect(sanitizeVariableValue('a\r\nb\u0000c\u0007\u009b')).toBe('a bc');
    expect(sanitizeVariableValue(42)).toBe('42');
  });

  it('names undeclared and unused variables per language', () => {
    expect(compareDeclaredVariables(['name'], { en: 'Hi {{name}}', tr: 'Merhaba {{ad}}' })).toEqual([
      { language: 'tr', undeclared: ['ad'], unused: ['name'] },
    ]);
  });
});

describe('default templates', () => {
  const typical: Record<string, string> = {
    date: 'March 15, 2024',
    time: '2:00 PM',
    trainer_name: 'John Doe',
    location: 'Training Room A',
    assessment_name: 'Safety Basics',
    due_date: 'March 20, 2024',
    code: '123456',
    message: 'Training session rescheduled',
  };

  it.each(DEFAULT_TEMPLATES.map((t) => [t.template_id, t]))(
    '%s uses exactly its declared variables',
    (_id, t) => {
      expect(compareDeclaredVariables(t.variables, t.content)).toEqual([]);
    },
  );

  it.each(DEFAULT_TEMPLATES.map((t) => [t.template_id, t]))('%s fits one segment in English', (_id, t) => {
    expect(analyzeText(renderTemplate(t.content.en, typical).text)).toMatchObject({
      encoding: 'GSM-7',
      segments: 1,
    });
  });

  it.each(DEFAULT_TEMPLATES.map((t) => [t.template_id, t]))(
    '%s fits two UCS-2 segments in Turkish',
    (_id, t) => {
      const r = analyzeText(renderTemplate(t.content.tr, typical).text);
      expect(r.segments).toBeLessThanOrEqual(2);
      if (t.variables.includes('code')) expect(r.segments).toBe(1);
    },
  );
});
