import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Principal } from '../auth/principal';
import { AppointmentEntity, formatAppointment } from '../appointments';
import { AppointmentsService } from '../appointments';
import { Clock } from '../common/clock';
import { AppError, ValidationFailedError } from '../common/errors';
import { CODE_MESSAGE_TYPES, Language, MessageType } from '../core/message-types';
import { Accepted, AcceptService, ChannelInput, SendContext } from '../messaging';
import { PhoneService } from '../phone';
import { TemplatedSender } from '../templates';
import { TenantsService } from '../tenancy';
import { VerificationService } from '../verification';

/** The system user appointment reminders are sent as (the cron and the remind route). */
export const REMINDER_USER = 'system:reminders';

/** Who is sending: in-process calls have no token, so the tenant and user are always explicit. */
export interface Actor {
  tenantId: number;
  userId: string;
  /** `admin` gets the admin rate limit, as over HTTP. */
  roles?: string[];
}

export interface SendOutcome {
  success: boolean;
  messageId: string | null;
  /** Why the message was not accepted (validation, rate limit, unknown template…). */
  error?: { code: string; message: string; details?: unknown };
}

/** The SDK's presentation of an accept result: the one message's id. */
function messageIdOf(accepted: Accepted): string {
  return accepted.result.messages[0].id;
}

interface Common {
  userId?: string;
  language?: Language;
  /**
   * Seconds the message may wait to be handed to a provider; past it, it ends `expired`. Default:
   * the template's, else a code's lifetime for codes, else none (docs/sending.md, Validity periods).
   */
  validitySeconds?: number | null;
}

/** What a reminder may change: the stored number and language, the user, the validity period. */
type ReminderOptions = Pick<Common, 'userId' | 'language' | 'validitySeconds'> & {
  phoneNumber?: string;
  /** channels (issue 25): this reminder's own; absent: the appointment_reminder template's. */
  channel?: ChannelInput;
};

/**
 * The in-process SDK other Nest modules inject, mirroring the brief's examples. Every method
 * goes through the same validation, tenant and rate rules as HTTP, and answers
 * `{success, messageId}`; it never throws for a bad request or a provider problem (delivery is
 * asynchronous: follow the message's status).
 */
@Injectable()
export class SmsService {
  private readonly logger = new Logger(SmsService.name);

  constructor(
    private readonly accepting: AcceptService,
    private readonly templated: TemplatedSender,
    private readonly verification: VerificationService,
    private readonly appointments: AppointmentsService,
    private readonly tenants: TenantsService,
    private readonly phone: PhoneService,
    private readonly clock: Clock,
  ) {}

  /**
   * Reminder for a stored appointment (PUT /api/sms/appointments/{id}); phone and language may
   * override the stored ones. One reminder per appointment start and number: calling again (the
   * cron and a service, a retry) answers the first message's id and sends nothing.
   */
  sendAppointmentReminder(
    actor: Actor,
    p: ReminderOptions & { appointmentId: string },
  ): Promise<SendOutcome> {
    return this.run(actor, async (ctx) => {
      const a = await this.appointments.get(actor.tenantId, p.appointmentId);
      return messageIdOf(await this.reminder(ctx, a, p));
    });
  }

  /**
   * POST /api/sms/appointments/{id}/remind: the caller must be allowed to see the appointment (its
   * owner or an admin; else 404), then the reminder goes out exactly as the cron sends it (as
   * REMINDER_USER, with the same idempotency key), so the cron, this route and their retries send
   * one reminder per appointment start and number. Throws the AppError (status, Retry-After).
   */
  async remindAppointment(
    caller: Principal,
    p: ReminderOptions & { appointmentId: string },
  ): Promise<{ messageId: string; replayed: boolean }> {
    const a = await this.appointments.read(caller, p.appointmentId);
    const principal: Principal = {
      userId: REMINDER_USER,
      homeTenantId: caller.tenantId,
      tenantId: caller.tenantId,
      roles: ['admin'],
    };
    const accepted = await this.reminder({ principal, route: 'sdk', requestBody: null }, a, p);
    return { messageId: messageIdOf(accepted), replayed: accepted.replayed };
  }

  private async reminder(ctx: SendContext, a: AppointmentEntity, p: ReminderOptions): Promise<Accepted> {
    const language = p.language ?? a.language ?? undefined;
    const { date, time } = formatAppointment(a, language ?? 'en');
    const phoneNumber = p.phoneNumber ?? a.phoneNumber;
    const once: SendContext = {
      ...ctx,
      idempotencyKey: `appointment-reminder:${a.appointmentId}:${a.startsAt.toISOString()}:${phoneNumber}`,
      route: 'sdk appointment-reminder',
      requestBody: { appointmentId: a.appointmentId, startsAt: a.startsAt.toISOString(), phoneNumber },
    };
    const accepted = await this.templated.send(once, {
      phoneNumber,
      templateId: 'appointment_reminder',
      variables: { date, time, trainer_name: a.trainerName, location: a.location },
      language,
      userId: p.userId ?? a.userId,
      metadata: { appointment_id: a.appointmentId },
      validitySeconds: p.validitySeconds,
      channel: p.channel,
    });
    await this.appointments.markReminded(ctx.principal.tenantId, a.appointmentId, this.clock.now());
    return accepted;
  }

  /** The caller's reset code, sent and stored hashed (so POST /verification/check works too). */
  sendPasswordResetCode(
    actor: Actor,
    p: Common & { phoneNumber: string; resetCode: string },
  ): Promise<SendOutcome> {
    return this.sendCode(actor, p.phoneNumber, 'password_reset', p.resetCode, p);
  }

  send2faCode(actor: Actor, p: Common & { phoneNumber: string; authCode: string }): Promise<SendOutcome> {
    return this.sendCode(actor, p.phoneNumber, '2fa', p.authCode, p);
  }

  sendAssessmentNotification(
    actor: Actor,
    p: Common & { phoneNumber: string; assessmentName: string; dueDate: string },
  ): Promise<SendOutcome> {
    return this.run(actor, async (ctx) => {
      const accepted = await this.templated.send(ctx, {
        phoneNumber: p.phoneNumber,
        templateId: 'assessment_notification',
        variables: { assessment_name: p.assessmentName, due_date: p.dueDate },
        language: p.language,
        userId: p.userId,
        validitySeconds: p.validitySeconds,
      });
      return messageIdOf(accepted);
    });
  }

  /**
   * A free-text message (general notification unless another type is given). Code types are
   * refused: a free text cannot be redacted, so codes go through sendPasswordResetCode / send2faCode.
   */
  sendNotification(
    actor: Actor,
    p: Common & { phoneNumber: string; message: string; messageType?: MessageType },
  ): Promise<SendOutcome> {
    return this.run(actor, async (ctx) => {
      if (p.messageType && CODE_MESSAGE_TYPES.includes(p.messageType))
        throw ValidationFailedError.field(
          'messageType',
          `messageType ${p.messageType} carries a code: use sendPasswordResetCode or send2faCode`,
        );
      const accepted = await this.accepting.accept(ctx, {
        recipients: [p.phoneNumber],
        body: p.message,
        messageType: p.messageType ?? 'general_notification',
        language: p.language ?? 'en',
        userId: p.userId ?? null,
        validitySeconds: p.validitySeconds,
        mode: 'single',
      });
      return messageIdOf(accepted);
    });
  }

  /** The brief's `is_valid, formatted = validate_phone_number(...)`. */
  validatePhoneNumber(
    phoneNumber: string,
    countryCode?: string,
  ): { isValid: boolean; formatted: string | null; reason?: string } {
    const v = this.phone.validate(phoneNumber, countryCode);
    return v.valid
      ? { isValid: true, formatted: v.e164 }
      : { isValid: false, formatted: null, reason: v.reason };
  }

  private sendCode(
    actor: Actor,
    phoneNumber: string,
    purpose: 'password_reset' | '2fa',
    code: string,
    p: Common,
  ): Promise<SendOutcome> {
    return this.run(actor, async (ctx) => {
      const sent = await this.verification.send(ctx, {
        phoneNumber,
        purpose,
        code,
        userId: p.userId,
        language: p.language,
        validitySeconds: p.validitySeconds,
      });
      return messageIdOf(sent.accepted);
    });
  }

  /** Tenant checks as the TenantGuard does, then the send; errors become `{success: false, error}`. */
  private async run(actor: Actor, send: (ctx: SendContext) => Promise<string>): Promise<SendOutcome> {
    try {
      const tenant = await this.tenants.ensure(actor.tenantId);
      if (!tenant.active)
        return {
          success: false,
          messageId: null,
          error: { code: 'tenant_inactive', message: `tenant ${tenant.id} is deactivated` },
        };
      const principal: Principal = {
        userId: actor.userId,
        homeTenantId: actor.tenantId,
        tenantId: actor.tenantId,
        roles: actor.roles ?? [],
      };
      const messageId = await send({ principal, route: 'sdk', requestBody: null });
      return { success: true, messageId };
    } catch (e) {
      if (e instanceof AppError)
        return {
          success: false,
          messageId: null,
          error: { code: e.code, message: e.message, details: e.details },
        };
      const errorId = randomUUID();
      this.logger.error(
        { errorId, err: e instanceof Error ? e.message : String(e) },
        'SmsService send failed',
      );
      return {
        success: false,
        messageId: null,
        error: { code: 'internal_error', message: `internal error ${errorId}` },
      };
    }
  }
}
