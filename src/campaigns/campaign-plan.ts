/**
 * What a campaign does with one recipient: send them this text in this language, or skip them
 * for a named reason. Pure (the caller supplies the phone parser, the destination rule and the
 * opt-out set), so preview and execution decide alike.
 */
import { analyzeText } from '../core/encoding';
import { Language } from '../core/message-types';
import { chooseLanguage, renderTemplate } from '../templates';
import { QuietHours, quietUntil, recipientZone } from '../core/quiet-hours';
import type { RecipientRow } from './recipient-rules';

/** The reasons the status endpoint always lists; destination rules add their own names. */
export const SKIP_REASONS = ['opted_out', 'invalid_phone', 'missing_variables', 'inactive'] as const;

export interface PlanContext {
  content: Record<string, string>;
  declared: string[];
  campaignVariables: Record<string, unknown>;
  tenantLanguage: Language;
  maxSegments: number;
  normalize: (phone: string) => { e164: string; country: string | null } | null;
  /** The destination rule refusing this number (country_not_allowed, premium_rate, …), or null. */
  refusal: (e164: string, country: string | null) => string | null;
  optedOut: ReadonlySet<string>;
  /** Quiet hours to respect (absent: none, or a transactional template). */
  quiet?: { window: QuietHours; tenantZone: string | undefined; now: Date };
}

export type Planned =
  | {
      kind: 'send';
      userId: string;
      phoneNumber: string;
      country: string | null;
      language: Language;
      text: string;
      segments: number;
      encoding: 'GSM-7' | 'UCS-2';
      /** Inside the recipient's quiet hours: sent when they end (the row is `scheduled`). */
      deferredUntil: Date | null;
    }
  | { kind: 'skip'; userId: string; reason: string };

export function planRecipient(
  r: Pick<RecipientRow, 'userId' | 'phoneNumber' | 'language' | 'attributes' | 'active'> & {
    timezone?: string | null;
  },
  ctx: PlanContext,
): Planned {
  const skip = (reason: string): Planned => ({ kind: 'skip', userId: r.userId, reason });
  if (!r.active) return skip('inactive');
  const phone = ctx.normalize(r.phoneNumber);
  if (phone === null) return skip('invalid_phone');
  const refused = ctx.refusal(phone.e164, phone.country);
  if (refused !== null) return skip(refused);
  if (ctx.optedOut.has(phone.e164)) return skip('opted_out');
  // The recipient's own values first, then the campaign's.
  const variables: Record<string, unknown> = {};
  for (const name of ctx.declared) {
    if (Object.prototype.hasOwnProperty.call(r.attributes, name)) variables[name] = r.attributes[name];
    else if (Object.prototype.hasOwnProperty.call(ctx.campaignVariables, name))
      variables[name] = ctx.campaignVariables[name];
  }
  const language = chooseLanguage(ctx.content, r.language ?? undefined, ctx.tenantLanguage) as Language;
  const { text, missing } = renderTemplate(ctx.content[language], variables);
  if (missing.length > 0 || text.trim() === '') return skip('missing_variables');
  const analysis = analyzeText(text);
  if (analysis.segments > ctx.maxSegments) return skip('too_long');
  const q = ctx.quiet;
  const deferredUntil = q
    ? quietUntil(q.now, recipientZone(r.timezone ?? null, phone.country, q.tenantZone), q.window)
    : null;
  return {
    kind: 'send',
    userId: r.userId,
    phoneNumber: phone.e164,
    country: phone.country,
    language,
    text,
    segments: analysis.segments,
    encoding: analysis.encoding,
    deferredUntil,
  };
}
