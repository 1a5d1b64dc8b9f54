import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHmac, hkdfSync, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { ValidationFailedError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { Language } from '../messaging/message-types';
import { Accepted, AcceptResult, SendContext } from '../messaging/messaging.service';
import { RateLimiterService } from '../messaging/rate-limiter.service';
import { PhoneService } from '../phone/phone.service';
import { TemplatedSender } from '../templates/templated-sender';
import { VerificationCodeEntity, VerificationPurpose } from './verification-code.entity';

export interface CodeSend {
  phoneNumber: string;
  purpose: VerificationPurpose;
  userId?: string | null;
  language?: Language;
  /** The caller's own code; otherwise a 6-digit code from a CSPRNG. */
  code?: string;
}

export interface CodeSent {
  result: AcceptResult;
  expiresAt: Date;
}

const TEMPLATE: Record<VerificationPurpose, string> = { password_reset: 'password_reset', '2fa': '2fa_code' };

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
    private readonly rateLimiter: RateLimiterService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {
    this.pepper = Buffer.from(
      hkdfSync('sha256', config.dataKey(), 'sms-service', 'verification-code-v1', 32),
    );
  }

  private hash(salt: string, code: string): string {
    return createHmac('sha256', this.pepper).update(salt).update(':').update(code).digest('hex');
  }

  private e164(phoneNumber: string): string {
    const v = this.phone.forSend(phoneNumber);
    if (!v.valid)
      throw ValidationFailedError.field('phone_number', `phone_number is not valid (${v.reason})`);
    return v.e164;
  }

  async send<B>(ctx: SendContext, input: CodeSend, present: (s: CodeSent) => B): Promise<Accepted<B>> {
    const tenantId = ctx.principal.tenantId;
    const phone = this.e164(input.phoneNumber);
    const now = this.clock.now();
    const code = input.code ?? String(randomInt(0, 1_000_000)).padStart(6, '0');
    const expiresAt = new Date(now.getTime() + this.config.get('SMS_CODE_TTL_SECONDS') * 1000);
    const scope = ['code', tenantId, phone];
    await this.rateLimiter.consumeScoped(
      scope,
      1,
      this.config.get('SMS_CODE_SENDS_PER_HOUR'),
      now,
      'verification codes for this number',
    );
    let accepted: Accepted<B>;
    try {
      accepted = await this.sender.send(
        ctx,
        {
          phoneNumber: phone,
          templateId: TEMPLATE[input.purpose],
          variables: { code },
          language: input.language,
          userId: input.userId,
          metadata: { purpose: input.purpose },
        },
        (result) => present({ result, expiresAt }),
      );
    } catch (e) {
      await this.rateLimiter.refundScoped(scope, 1, now).catch(() => undefined);
      throw e;
    }
    if (accepted.replayed) {
      // The first request stored its code; this one generated nothing that was sent.
      await this.rateLimiter.refundScoped(scope, 1, now).catch(() => undefined);
      return accepted;
    }
    const salt = randomBytes(16).toString('hex');
    const messageId = (accepted.body as { message_id?: string }).message_id ?? null;
    // A new code replaces the live one for this (tenant, phone, purpose).
    await this.ds.query(
      `INSERT INTO sms_verification_codes (tenant_id, phone_number, purpose, code_hash, salt, expires_at, attempts, consumed_at, message_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, 0, NULL, $7, $8)
       ON CONFLICT (tenant_id, phone_number, purpose) DO UPDATE SET
         code_hash = EXCLUDED.code_hash, salt = EXCLUDED.salt, expires_at = EXCLUDED.expires_at,
         attempts = 0, consumed_at = NULL, message_id = EXCLUDED.message_id, created_at = EXCLUDED.created_at`,
      [tenantId, phone, input.purpose, this.hash(salt, code), salt, expiresAt, messageId, now],
    );
    return accepted;
  }

  /** True once for the live code; a used, expired, burnt or wrong code is false. */
  async check(
    tenantId: number,
    input: { phoneNumber: string; purpose: VerificationPurpose; code: string },
  ): Promise<boolean> {
    const phone = this.e164(input.phoneNumber);
    const now = this.clock.now();
    const maxAttempts = this.config.get('SMS_CODE_MAX_ATTEMPTS');
    return this.ds.transaction(async (m) => {
      const row = await m
        .getRepository(VerificationCodeEntity)
        .createQueryBuilder('c')
        .setLock('pessimistic_write')
        .where('c.tenant_id = :tenantId AND c.phone_number = :phone AND c.purpose = :purpose', {
          tenantId,
          phone,
          purpose: input.purpose,
        })
        .getOne();
      if (!row || row.consumedAt || row.expiresAt.getTime() <= now.getTime() || row.attempts >= maxAttempts)
        return false;
      const given = Buffer.from(this.hash(row.salt, input.code), 'hex');
      const stored = Buffer.from(row.codeHash, 'hex');
      if (given.length === stored.length && timingSafeEqual(given, stored)) {
        await m.query(
          'UPDATE sms_verification_codes SET consumed_at = $4 WHERE tenant_id = $1 AND phone_number = $2 AND purpose = $3',
          [tenantId, phone, input.purpose, now],
        );
        return true;
      }
      await m.query(
        'UPDATE sms_verification_codes SET attempts = attempts + 1 WHERE tenant_id = $1 AND phone_number = $2 AND purpose = $3',
        [tenantId, phone, input.purpose],
      );
      return false;
    });
  }
}
