import type { Principal } from '../../auth/principal';
import type { Channel, WhatsappMode } from '../../core/channels';
import type { Language, MessageStatus, MessageType } from '../../core/message-types';
import type { SmartEncodingReport } from '../../core/smart-encoding';
import type { RateLimitState } from '../policies/rate-limiter.service';
import type { BindParam } from '../repositories/messages.repository';

export type { BindParam };

/** How far ahead a message may be scheduled. */
export const MAX_SCHEDULE_AHEAD_MS = 35 * 24 * 3600 * 1000;

/** A send's channel (issue 25, docs/sending.md#channels); every field optional: SMS. */
export interface ChannelInput {
  channel?: Channel;
  /** mms: https media URLs (checked like status_callback_url). */
  mediaUrls?: string[];
  /** whatsapp: the approved template sent outside the session window. */
  contentSid?: string;
  contentVariables?: Record<string, string>;
  /** whatsapp: goes out once as SMS when it fails or has no receipt in time. */
  fallbackChannel?: 'sms' | null;
}

export interface AcceptInput extends ChannelInput {
  /** As the caller wrote them; normalised to E.164 here. */
  recipients: string[];
  /** The full text to send. */
  body: string;
  /** Substrings (verification codes) stored and shown as ******; the clear body is kept encrypted until sent. */
  secrets?: string[];
  messageType: MessageType;
  /** A custom type's template says it is transactional (codes and built-in types need not say). */
  transactional?: boolean;
  language: Language;
  templateId?: string | null;
  /** The template's A/B variant the body was rendered from (issue 25); absent: none. */
  variant?: string | null;
  /** The template is marked `exact`: the tenant's smart encoding never alters its text. */
  exact?: boolean;
  userId?: string | null;
  metadata?: Record<string, unknown>;
  scheduledAt?: Date | null;
  campaignId?: string | null;
  countryCode?: string;
  /** Where this message's status events are also POSTed (checked: https, public address). */
  statusCallbackUrl?: string | null;
  /**
   * Validity period in seconds (the send's own, else its template's), counted from when the
   * message is due; null or absent: the type's default (a code's lifetime for codes, else none).
   */
  validitySeconds?: number | null;
  /** single: an invalid number is a 400; bulk: invalid numbers are listed and skipped. */
  mode: 'single' | 'bulk';
  /**
   * A write that commits with the rows or not at all (a verification code's hash), so no text goes
   * out whose companion row is missing: one data-modifying statement (INSERT, UPDATE or DELETE),
   * which the rows' own insert runs as a CTE, so both are one statement. `param` binds a value
   * and returns its placeholder. Given, the accept does not share the group commit.
   */
  alongside?: (accepted: AcceptedRows, param: BindParam) => string;
}

/** What `AcceptInput.alongside` is told of the rows it commits with. */
export interface AcceptedRows {
  messageIds: string[];
  acceptedAt: Date;
}

/** One recipient of a campaign page, rendered in their language (the batch entry's input). */
export interface PlannedMessage {
  /** The recipient's user id in the directory: the message's user_id and recipient_user_id. */
  recipientUserId: string;
  /** As the directory holds it; normalised here (else skipped as invalid_phone). */
  phoneNumber: string;
  /** The recipient's own zone, for quiet hours (else their number's country's, else the tenant's). */
  timezone: string | null;
  language: Language;
  /** The rendered text ('' when it did not render). */
  body: string;
  /**
   * Why the caller cannot send it (its text did not render: `missing_variables`), or absent. The
   * recipient still passes the policies first, so one who opted out is skipped as opted out.
   */
  unsendable?: string;
  /** The template's A/B variant the body was rendered from (issue 25); absent: none. */
  variant?: string | null;
  /**
   * When it should go (a campaign's `send_at: "optimal"`, issue 25); absent, null or not in the
   * future: now. Quiet hours still apply to it, and the validity period counts from it.
   */
  scheduledAt?: Date | null;
}

/** A campaign page handed to the accept path: who sends what, to whom. */
export interface PlannedInput extends ChannelInput {
  tenantId: number;
  /** The campaign's creator: the messages' created_by. */
  createdBy: string;
  campaignId: string;
  messageType: MessageType;
  /** The template says transactional: quiet hours do not apply, SNS sends it as Transactional. */
  transactional: boolean;
  templateId: string;
  /** The template is marked `exact`: the tenant's smart encoding never alters its texts. */
  exact?: boolean;
  /** Validity period in seconds from acceptance (the campaign's own, else its template's); null: none. */
  validitySeconds?: number | null;
  messages: PlannedMessage[];
}

/** What the accept path did with a campaign page. */
export interface PlannedOutcome {
  /** The page's messages waiting to be handed over (this attempt's and any earlier one's), with when they are due. */
  accepted: { id: string; recipientUserId: string; dueAt: Date | null }[];
  /** Recipients refused by a policy, with its reason (invalid_phone, country_not_allowed, opted_out, spend_cap_reached...). */
  rejected: { recipientUserId: string; reason: string }[];
}

/** What a campaign page would send, computed by the same policies and stored nowhere. */
export interface PlannedPreview {
  accepted: {
    recipientUserId: string;
    phoneNumber: string;
    country: string | null;
    language: Language;
    text: string;
    segments: number;
    encoding: 'GSM-7' | 'UCS-2';
    estimatedCost: number | null;
    /** Inside the recipient's quiet hours: sent when they end. */
    deferredUntil: Date | null;
  }[];
  rejected: { recipientUserId: string; reason: string }[];
  currency: string;
}

export interface AcceptedMessage {
  id: string;
  phoneNumber: string;
  /** whatsapp: the form it takes (session: free text; template: content_sid). */
  whatsappMode?: WhatsappMode | null;
}

/** What accepting messages decided: a domain result that HTTP controllers and the SDK present. */
export interface AcceptResult {
  batchId: string | null;
  messages: AcceptedMessage[];
  rejected: { phone_number: string; reason: string }[];
  status: Extract<MessageStatus, 'queued' | 'scheduled'>;
  segments: number;
  encoding: string;
  /** Per message (single) or summed (bulk). */
  estimatedCost: number | null;
  currency: string;
  scheduledAt: Date | null;
  /** The template the body was rendered from, and the language actually sent. */
  templateId: string | null;
  language: Language;
  /** The template's A/B variant sent (issue 25); absent or null: none. */
  variant?: string | null;
  /** When the messages were accepted (their created_at). */
  acceptedAt: Date;
  /** What the tenant's smart encoding changed in the (shared) body; absent or null: sent as written. */
  smartEncoding?: SmartEncodingReport | null;
  /** Accepted in test mode (the sandbox only, at no cost); absent in older stored results: false. */
  testMode?: boolean;
  /** The channel; absent in older stored results: sms. */
  channel?: Channel;
}

export interface SendContext {
  principal: Principal;
  /** Idempotency-Key header, if any. */
  idempotencyKey?: string;
  /** Route and body that the key is bound to. */
  route: string;
  requestBody: unknown;
}

/** The answer of `AcceptService.accept`: the result, whether it is a replay, the rate-limit state. */
export interface Accepted {
  result: AcceptResult;
  replayed: boolean;
  rateLimit: RateLimitState | null;
}

/** How an AcceptResult is kept in an idempotency record (JSON, versioned). */
export interface StoredAcceptResult {
  v: 1;
  result: Omit<AcceptResult, 'scheduledAt' | 'acceptedAt'> & {
    scheduledAt: string | null;
    acceptedAt: string;
  };
}

export function toStoredResult(r: AcceptResult): StoredAcceptResult {
  return {
    v: 1,
    result: {
      ...r,
      scheduledAt: r.scheduledAt?.toISOString() ?? null,
      acceptedAt: r.acceptedAt.toISOString(),
    },
  };
}

/**
 * Reads an idempotency record back. Records written before results were stored (`v` absent) hold
 * the presented body of the first answer; they are read back into a result as far as the body
 * tells (they expire within 24 hours of the upgrade).
 */
export function fromStoredResult(stored: unknown, keyCreatedAt: Date): AcceptResult {
  const s = stored as Partial<StoredAcceptResult> | null;
  if (s && typeof s === 'object' && s.v === 1 && s.result) {
    return {
      ...s.result,
      scheduledAt: s.result.scheduledAt === null ? null : new Date(s.result.scheduledAt),
      acceptedAt: new Date(s.result.acceptedAt),
    };
  }
  return fromLegacyBody(stored, keyCreatedAt);
}

function fromLegacyBody(body: unknown, at: Date): AcceptResult {
  const b = (typeof body === 'string' ? { message_id: body } : (body ?? {})) as Record<string, unknown>;
  const ids = Array.isArray(b.message_ids) ? (b.message_ids as string[]) : [String(b.message_id)];
  return {
    batchId: typeof b.batch_id === 'string' ? b.batch_id : null,
    messages: ids.map((id) => ({ id, phoneNumber: '' })),
    rejected: Array.isArray(b.rejected) ? (b.rejected as AcceptResult['rejected']) : [],
    status: b.status === 'scheduled' || typeof b.scheduled_time === 'string' ? 'scheduled' : 'queued',
    segments: Number(b.segments ?? 1),
    encoding: String(b.encoding ?? 'GSM-7'),
    estimatedCost: typeof b.estimated_cost === 'number' ? b.estimated_cost : null,
    currency: String(b.currency ?? 'USD'),
    scheduledAt: typeof b.scheduled_time === 'string' ? new Date(b.scheduled_time) : null,
    templateId: typeof b.template_id === 'string' ? b.template_id : null,
    language: (b.language_used as Language) ?? 'en',
    acceptedAt: at,
  };
}
