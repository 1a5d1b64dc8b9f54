import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { hkdfSync, randomBytes, randomInt } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { ValidationFailedError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { Language } from '../core/message-types';
import { Accepted, BindParam, MessageConversions, SendContext } from '../messaging';
import { PhoneService } from '../phone';
import { TemplatedSender } from '../templates';
import { CODE_PATTERN, generateCode, hashCode, sameHash } from './codes';
import { VerificationPurpose } from './verification-code.entity';

export interface CodeSend {
  phoneNumber: string;
  purpose: VerificationPurpose;
  userId?: string | null;
  language?: Language;
  /** The caller's own code; otherwise a 6-digit code from a CSPRNG. */
  code?: string;
  /** How long its message may wait for a provider (seconds); default and ceiling: the code's lifetime. */
  validitySeconds?: number | null;
  /** channels (issue 25): whatsapp, with the approved authentication template (the code is its variable 1). */
  channel?: 'sms' | 'whatsapp';
  contentSid?: string;
}

export interface CodeSent {
  accepted: Accepted;
  /** When the code stops working: the messages' acceptance time plus SMS_CODE_TTL_SECONDS. */
  expiresAt: Date;
}

const TEMPLATE: Record<VerificationPurpose, string> = { password_reset: 'password_reset', '2fa': '2fa_code' };

/**
 * The code's row, as one statement for the accept to run with its message (AcceptInput.alongside):
 * a new code replaces the live one for this (tenant, phone, purpose).
 */
function storeStatement(
  param: BindParam,
  c: {
    tenantId: number;
    phone: string;
    purpose: VerificationPurpose;
    codeHash: string;
    salt: string;
    expiresAt: Date;
    messageId: string;
    createdAt: Date;
  },
): string {
  return `INSERT INTO sms_verification_codes (tenant_id, phone_number, purpose, code_hash, salt, expires_at, attempts, consumed_at, message_id, created_at)
       VALUES (${param(c.tenantId)}, ${param(c.phone)}, ${param(c.purpose)}, ${param(c.codeHash)}, ${param(c.salt)},
               ${param(c.expiresAt)}::timestamptz, 0, NULL, ${param(c.messageId)}::uuid, ${param(c.createdAt)}::timestamptz)
       ON CONFLICT (tenant_id, phone_number, purpose) DO UPDATE SET
         code_hash = EXCLUDED.code_hash, salt = EXCLUDED.salt, expires_at = EXCLUDED.expires_at,
         attempts = 0, consumed_at = NULL, message_id = EXCLUDED.message_id, created_at = EXCLUDED.created_at`;
}

/**
 * Password-reset and 2FA codes: generated with a CSPRNG, sent through the matching template,
 * stored only as a salted HMAC with an expiry, one live code per (tenant, phone, purpose),
 * burnt after too many wrong tries. Sends per phone number are limited (SMS pumping).
 */
@Injectable()
export class VerificationService {
  private readonly pepper: Buffer;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly sender: TemplatedSender,
    private readonly phone: PhoneService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly conversions: MessageConversions,
  ) {
    this.pepper = Buffer.from(
      hkdfSync('sha256', config.dataKey(), 'sms-service', 'verification-code-v1', 32),
    );
  }

  private e164(phoneNumber: string): string {
    const v = this.phone.forSend(phoneNumber);
    if (!v.valid)
      throw ValidationFailedError.field('phone_number', `phone_number is not valid (${v.reason})`);
    return v.e164;
  }

  /** Retention: codes expired for more than a day. */
  async purgeExpired(): Promise<number> {
    const [, n] = await this.ds.query(
      `DELETE FROM sms_verification_codes WHERE expires_at < now() - interval '1 day'`,
    );
    return Number(n);
  }

  async send(ctx: SendContext, input: CodeSend): Promise<CodeSent> {
    const tenantId = ctx.principal.tenantId;
    const phone = this.e164(input.phoneNumber);
    const now = this.clock.now();
    if (input.code !== undefined && !CODE_PATTERN.test(input.code))
      throw ValidationFailedError.field('code', 'code must be 4 to 10 digits');
    const code = input.code ?? generateCode((max) => randomInt(max));
    // The per-number code limit (SMS_CODE_SENDS_PER_HOUR) is taken on the accept path
    // (DestinationPolicy), where every code send passes; a replay or a refusal takes nothing.
    const ttlMs = this.config.get('SMS_CODE_TTL_SECONDS') * 1000;
    const salt = randomBytes(16).toString('hex');
    const codeHash = hashCode(this.pepper, salt, code);
    const accepted: Accepted = await this.sender.send(ctx, {
      phoneNumber: phone,
      templateId: TEMPLATE[input.purpose],
      variables: { code },
      language: input.language,
      userId: input.userId,
      metadata: { purpose: input.purpose },
      // Redacted whatever the tenant's template looks like.
      secrets: [code],
      validitySeconds: input.validitySeconds,
      // Sealed with the code's text on the accept path, stored redacted.
      ...(input.channel === 'whatsapp'
        ? {
            channel: {
              channel: 'whatsapp',
              contentSid: input.contentSid,
              ...(input.contentSid !== undefined ? { contentVariables: { '1': code } } : {}),
            },
          }
        : input.contentSid !== undefined
          ? { channel: { channel: 'sms', contentSid: input.contentSid } }
          : {}),
      // The code's hash commits with its message or neither does: a text whose code cannot be
      // checked never goes out, and a replay of the send always finds its code stored.
      alongside: (rows, param) =>
        storeStatement(param, {
          tenantId,
          phone,
          purpose: input.purpose,
          codeHash,
          salt,
          expiresAt: new Date(rows.acceptedAt.getTime() + ttlMs),
          messageId: rows.messageIds[0],
          createdAt: now,
        }),
    });
    const expiresAt = new Date(accepted.result.acceptedAt.getTime() + ttlMs);
    return { accepted, expiresAt };
  }

  /**
   * True once for the live code; a used, expired, burnt or wrong code is false. Each check first
   * claims an attempt with a conditional UPDATE (live, unexpired, attempts below the limit), so
   * concurrent checks can never try more than SMS_CODE_MAX_ATTEMPTS times; a right code is then
   * consumed by a second conditional UPDATE that only one concurrent check can win.
   *
   * The winning check also marks the message that carried the code converted (messaging's
   * `MessageConversions`, this tenant's message only), in the same transaction as the consumption:
   * a valid check and its conversion commit together. Once committed, routing is told. The same
   * transaction erases the message's encrypted body (`spendCode`): a used code is never sent later.
   */
  async check(
    tenantId: number,
    input: { phoneNumber: string; purpose: VerificationPurpose; code: string },
  ): Promise<boolean> {
    const phone = this.e164(input.phoneNumber);
    const now = this.clock.now();
    const key = [tenantId, phone, input.purpose];
    const [claimed]: { code_hash: string; salt: string }[] = await this.ds.query(
      `WITH claimed AS (
         UPDATE sms_verification_codes SET attempts = attempts + 1
          WHERE tenant_id = $1 AND phone_number = $2 AND purpose = $3
            AND consumed_at IS NULL AND expires_at > $4 AND attempts < $5
          RETURNING code_hash, salt)
       SELECT code_hash, salt FROM claimed`,
      [...key, now, this.config.get('SMS_CODE_MAX_ATTEMPTS')],
    );
    if (!claimed || !sameHash(hashCode(this.pepper, claimed.salt, input.code), claimed.code_hash))
      return false;
    const consumed = await this.ds.transaction(async (m) => {
      const [row]: { message_id: string | null }[] = await m.query(
        `WITH consumed AS (
           UPDATE sms_verification_codes SET consumed_at = $4
            WHERE tenant_id = $1 AND phone_number = $2 AND purpose = $3 AND consumed_at IS NULL AND code_hash = $5
            RETURNING message_id)
         SELECT message_id FROM consumed`,
        [...key, now, claimed.code_hash],
      );
      if (row === undefined) return null;
      if (row.message_id !== null) await this.conversions.spendCode(m, tenantId, row.message_id, now);
      const conversion =
        row.message_id === null
          ? null
          : await this.conversions.markConverted(m, tenantId, row.message_id, now);
      return { conversion };
    });
    if (consumed === null) return false;
    if (consumed.conversion) this.conversions.observe(consumed.conversion);
    return true;
  }
}
