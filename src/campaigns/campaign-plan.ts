/**
 * What a campaign does with one recipient before the accept path sees it: render the template in
 * their language with their attributes, then the campaign's variables (a text that does not
 * render is marked `missing_variables`, which the accept path applies after its own policies), or
 * skip an inactive one. Pure. The rules every accepted message passes (phone
 * number, destinations, opt-outs, length, quiet hours, pricing, the spend cap) are the accept
 * path's, in messaging, so a campaign cannot drift from `/send-bulk`.
 */
import { Language } from '../core/message-types';
import { chooseLanguage, renderTemplate } from '../templates';
import type { RecipientRow } from './recipient-rules';

/** The reasons the status endpoint always lists; the accept path's policies add their own names. */
export const SKIP_REASONS = ['opted_out', 'invalid_phone', 'missing_variables', 'inactive'] as const;

export interface PlanContext {
  content: Record<string, string>;
  /** A running A/B test of the template (issue 25): the variant this E.164 number gets; absent: none. */
  variantOf?: (phoneNumber: string) => { key: string; content: Record<string, string> } | null;
  declared: string[];
  campaignVariables: Record<string, unknown>;
  tenantLanguage: Language;
}

export type Planned =
  | {
      kind: 'send';
      userId: string;
      /** As the directory holds it: the accept path normalises it. */
      phoneNumber: string;
      timezone: string | null;
      language: Language;
      text: string;
      /** The template's A/B variant it was rendered from; null: none. */
      variant: string | null;
      /** The text did not render: the accept path skips it with this reason after its policies. */
      unsendable?: 'missing_variables';
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
  // The recipient's own values first, then the campaign's.
  const variables: Record<string, unknown> = {};
  for (const name of ctx.declared) {
    if (Object.prototype.hasOwnProperty.call(r.attributes, name)) variables[name] = r.attributes[name];
    else if (Object.prototype.hasOwnProperty.call(ctx.campaignVariables, name))
      variables[name] = ctx.campaignVariables[name];
  }
  const language = chooseLanguage(ctx.content, r.language ?? undefined, ctx.tenantLanguage) as Language;
  // The directory holds E.164 numbers: the same key a send-templated to the number hashes.
  const variant = ctx.variantOf?.(r.phoneNumber) ?? null;
  const { text, missing } = renderTemplate((variant?.content ?? ctx.content)[language], variables);
  const unrendered = missing.length > 0 || text.trim() === '';
  return {
    kind: 'send',
    userId: r.userId,
    phoneNumber: r.phoneNumber,
    timezone: r.timezone ?? null,
    language,
    text: unrendered ? '' : text,
    variant: variant?.key ?? null,
    ...(unrendered ? { unsendable: 'missing_variables' as const } : {}),
  };
}
