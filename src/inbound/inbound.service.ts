import { Injectable, Logger } from '@nestjs/common';
import {
  KeywordLanguage,
  KeywordMatch,
  matchKeyword,
  normalizeKeyword,
  TenantKeywords,
} from '../core/keywords';
import { CallbacksService } from '../callbacks';
import {
  answeredTenant,
  ConsentService,
  LedgerQueries,
  OPT_OUT_SOURCE,
  OptOutsService,
  SMS_KEYWORD_SOURCE,
  WhatsappSessions,
} from '../messaging';
import type { InboundSms } from '../providers';
import { TemplatesService } from '../templates';
import { InboundRepository, InboundRow } from './inbound.repository';

/** The opt-out `source` of a keyword change. */
export const KEYWORD_SOURCE = OPT_OUT_SOURCE.keyword;
/** No tenant has id 0: the defaults (tenant NULL) are what it sees. */
const NO_TENANT = 0;

export interface InboundOutcome {
  row: InboundRow;
  /** The text to answer the sender with, or null (no keyword, or the provider answered itself). */
  reply: string | null;
}

/**
 * Texts recipients send to our numbers: stored once (per provider id), given to their tenant (the
 * one that last texted the sender: on a number every tenant shares, a reply cannot name the tenant
 * it answers), and acted on when the whole body is a keyword:
 * - STOP words put the number on the opt-out list of every tenant that sends from the number it
 *   texted (carriers treat a STOP as the whole number's; a tenant's own STOP word: that tenant
 *   only); each entry records the tenant whose text the STOP answered;
 * - START words lift only what a text may lift: keyword STOPs (a tenant's own START word: that
 *   tenant's only); a START the provider reports (Twilio's OptOutType) also lifts the opt-outs the
 *   provider reported when it refused a send. An admin's opt-out stays: only an admin lifts it;
 * - HELP gets help;
 * - each change is an opt-out event naming the number, the keyword, the inbound message and the
 *   answered tenant, and a recipient.opted_out / opted_in callback for the tenant it changed;
 * - the reply is the tenant's `keyword_<action>` template in the keyword's language; a START that
 *   left that tenant's opt-out in place answers `keyword_start_kept` instead.
 */
@Injectable()
export class InboundService {
  private readonly logger = new Logger(InboundService.name);

  constructor(
    private readonly repo: InboundRepository,
    private readonly optOuts: OptOutsService,
    private readonly templates: TemplatesService,
    private readonly callbacks: CallbacksService,
    private readonly ledger: LedgerQueries,
    private readonly consent: ConsentService,
    private readonly sessions: WhatsappSessions,
  ) {}

  /** Retention: inbound texts older than `days` (SMS_RETENTION_DAYS). */
  purgeOlderThan(days: number, chunk: number): Promise<number> {
    return this.repo.purgeOlderThan(days, chunk);
  }

  /** Retention: redacts inbound bodies older than `days` (tenant null: texts of no tenant). */
  redactBodies(tenantId: number | null, days: number, chunk: number): Promise<number> {
    return this.repo.redactBodies(tenantId, days, chunk);
  }

  async receive(m: InboundSms): Promise<InboundOutcome> {
    // A WhatsApp message opens (or moves) the 24-hour session window with our sender (issue 25).
    if (m.channel === 'whatsapp') await this.sessions.opened(m.to, m.from, m.receivedAt);
    const tenantId = await this.ledger.lastSender(m.from);
    const settings = tenantId === null ? {} : await this.repo.settings(tenantId);
    const tenantLanguage: KeywordLanguage = settings.default_language === 'tr' ? 'tr' : 'en';
    const match = this.keyword(m, settings.inbound_keywords as TenantKeywords | undefined, tenantLanguage);
    const { row, created } = await this.repo.insert(
      m,
      tenantId,
      match?.action ?? null,
      match?.language ?? null,
    );
    this.logger.log(
      {
        inboundId: row.id,
        provider: m.provider,
        providerMessageId: m.providerMessageId,
        tenantId,
        keyword: match?.action ?? null,
        replayed: !created,
      },
      'inbound message received',
    );
    // The platform hears of it (message.inbound) once: a redelivered webhook publishes nothing.
    if (created && tenantId !== null) {
      await this.callbacks.publish({
        tenantId,
        type: 'message.inbound',
        key: row.id,
        data: {
          inbound_id: row.id,
          from: row.from,
          to: row.to,
          body: row.body,
          keyword: row.keyword,
          received_at: row.receivedAt.toISOString(),
          channel: row.channel,
        },
      });
    }
    if (!match) return { row, reply: null };
    // A redelivered webhook was acted on the first time: answer the same, change nothing.
    if (created) await this.act(m, row, match, tenantId);
    // The provider read the keyword itself (Twilio's OptOutType) and has answered the sender.
    if (match.origin === 'provider') return { row, reply: null };
    return {
      row,
      reply: await this.replyText(tenantId, await this.replyTemplate(m, match, tenantId), match),
    };
  }

  /** `keyword_<action>`, unless a START left the answered tenant's opt-out in place. */
  private async replyTemplate(m: InboundSms, match: KeywordMatch, tenantId: number | null): Promise<string> {
    if (match.action === 'start' && tenantId !== null) {
      const still = await this.optOuts.filter(tenantId, [m.from]);
      if (still.size > 0) return 'keyword_start_kept';
    }
    return `keyword_${match.action}`;
  }

  /**
   * recipient.opted_out / opted_in for a tenant, once per inbound message that caused it. `answered`
   * tells the tenant whether the keyword answered its own text or another tenant's (never which).
   */
  private async publishOptChange(
    tenantId: number,
    type: 'recipient.opted_out' | 'recipient.opted_in',
    phoneNumber: string,
    keyword: string,
    inboundId: string,
    answeredTenantId: number | null,
  ): Promise<void> {
    await this.callbacks.publish({
      tenantId,
      type,
      key: `${inboundId}:${tenantId}`,
      data: {
        phone_number: phoneNumber,
        keyword,
        inbound_id: inboundId,
        source: KEYWORD_SOURCE,
        answered: answeredTenant(tenantId, answeredTenantId),
      },
    });
  }

  private keyword(
    m: InboundSms,
    own: TenantKeywords | undefined,
    tenantLanguage: KeywordLanguage,
  ): KeywordMatch | null {
    const ours = matchKeyword(m.body, own, tenantLanguage);
    if (!m.optOutType) return ours;
    // The provider's reading wins; the language is the word's when we know it.
    return {
      action: m.optOutType,
      language: ours?.language ?? tenantLanguage,
      word: ours?.word ?? normalizeKeyword(m.body).slice(0, 64),
      origin: 'provider',
    };
  }

  private async act(
    m: InboundSms,
    row: InboundRow,
    match: KeywordMatch,
    tenantId: number | null,
  ): Promise<void> {
    if (match.action === 'help' || !m.from.startsWith('+')) return;
    const change = {
      actor: m.from,
      keyword: match.word,
      inboundMessageId: row.id,
      answeredTenantId: tenantId,
    };
    const published = (t: number, type: 'recipient.opted_out' | 'recipient.opted_in') =>
      this.publishOptChange(t, type, m.from, match.word, row.id, tenantId);
    // A tenant's own word acts for that tenant only; the built-in words for every tenant that
    // sends from the number (a carrier-level STOP on a shared number stops them all).
    const scope = (all: number[]) => (match.origin === 'tenant' ? all.filter((t) => t === tenantId) : all);
    const consentBy = { actor: m.from, keyword: match.word, inboundMessageId: row.id };
    if (match.action === 'stop') {
      const stopped = scope(await this.repo.tenantsSendingFrom(m.to));
      for (const t of stopped) {
        if (await this.optOuts.add(t, m.from, KEYWORD_SOURCE, match.word, change))
          await published(t, 'recipient.opted_out');
      }
      // The same tenants' granted consent is revoked (docs/privacy.md).
      await this.consent.byKeyword(stopped, m.from, 'revoked', ['granted'], row.receivedAt, consentBy);
      return;
    }
    const lifted = await this.optOuts.lift(
      scope(await this.repo.tenantsOptedOut(m.from)),
      m.from,
      liftableBy(match),
      { ...change, source: KEYWORD_SOURCE },
    );
    for (const t of lifted) await published(t, 'recipient.opted_in');
    // START grants consent to the tenant it answered, and gives back what a STOP text revoked
    // to the tenants it lifted a keyword opt-out for; a tenant never given consent gets none.
    if (tenantId !== null)
      await this.consent.byKeyword(
        [tenantId],
        m.from,
        'granted',
        ['unknown', 'revoked'],
        row.receivedAt,
        consentBy,
      );
    await this.consent.byKeyword(
      lifted.filter((t) => t !== tenantId),
      m.from,
      'granted',
      ['revoked'],
      row.receivedAt,
      consentBy,
      SMS_KEYWORD_SOURCE,
    );
  }

  private async replyText(
    tenantId: number | null,
    templateId: string,
    match: KeywordMatch,
  ): Promise<string | null> {
    try {
      const r = await this.templates.preview(tenantId ?? NO_TENANT, templateId, {}, match.language);
      return r.text.trim() || null;
    } catch (e) {
      this.logger.warn({ keyword: match.action, templateId, err: String(e) }, 'no keyword reply template');
      return null;
    }
  }

  list(tenantId: number, filter: Parameters<InboundRepository['list']>[1]): Promise<InboundRow[]> {
    return this.repo.list(tenantId, filter);
  }
}

/**
 * The opt-out sources a START lifts. A keyword STOP is lifted by a keyword START. An opt-out the
 * provider reported (the carrier refused a send: Twilio 21610) is the carrier's: only a START the
 * provider reports (it has lifted its own block) lifts it; a START we read ourselves may have
 * reached another number or provider than the one that blocks. An admin's opt-out never.
 */
function liftableBy(match: KeywordMatch): readonly string[] {
  return match.origin === 'provider'
    ? [OPT_OUT_SOURCE.keyword, OPT_OUT_SOURCE.provider]
    : [OPT_OUT_SOURCE.keyword];
}
