import { Injectable, Logger } from '@nestjs/common';
import { NotFoundError } from '../common/errors';
import {
  KeywordLanguage,
  KeywordMatch,
  matchKeyword,
  normalizeKeyword,
  TenantKeywords,
} from '../core/keywords';
import { CallbacksService } from '../callbacks';
import { LedgerQueries, OptOutsService } from '../messaging';
import type { InboundSms } from '../providers';
import { TemplatesService } from '../templates';
import { InboundRepository, InboundRow } from './inbound.repository';

/** The opt-out `source` of a keyword change. */
export const KEYWORD_SOURCE = 'inbound_keyword';
/** No tenant has id 0: the defaults (tenant NULL) are what it sees. */
const NO_TENANT = 0;

export interface InboundOutcome {
  row: InboundRow;
  /** The text to answer the sender with, or null (no keyword, or the provider answered itself). */
  reply: string | null;
}

/**
 * Texts recipients send to our numbers: stored once (per provider id), given to their tenant,
 * and acted on when the whole body is a keyword:
 * - STOP words put the number on the opt-out list of every tenant that sends from the number it
 *   texted (a tenant's own STOP word: that tenant only); START words take it off; HELP gets help;
 * - each change is an opt-out event naming the number, the keyword and the inbound message;
 * - the reply is the tenant's `keyword_<action>` template in the keyword's language.
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
  ) {}

  /** Retention: inbound texts older than `days` (SMS_RETENTION_DAYS). */
  purgeOlderThan(days: number, chunk: number): Promise<number> {
    return this.repo.purgeOlderThan(days, chunk);
  }

  async receive(m: InboundSms): Promise<InboundOutcome> {
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
        },
      });
    }
    if (!match) return { row, reply: null };
    // A redelivered webhook was acted on the first time: answer the same, change nothing.
    if (created) await this.act(m, row, match, tenantId);
    // The provider read the keyword itself (Twilio's OptOutType) and has answered the sender.
    if (match.origin === 'provider') return { row, reply: null };
    return { row, reply: await this.replyText(tenantId, match) };
  }

  /** recipient.opted_out / opted_in for a tenant, once per inbound message that caused it. */
  private async publishOptChange(
    tenantId: number,
    type: 'recipient.opted_out' | 'recipient.opted_in',
    phoneNumber: string,
    keyword: string,
    inboundId: string,
  ): Promise<void> {
    await this.callbacks.publish({
      tenantId,
      type,
      key: `${inboundId}:${tenantId}`,
      data: { phone_number: phoneNumber, keyword, inbound_id: inboundId, source: KEYWORD_SOURCE },
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
    const change = { actor: m.from, keyword: match.word, inboundMessageId: row.id };
    // A tenant's own word acts for that tenant only; the built-in words for every tenant that
    // sends from the number (a carrier-level STOP on a shared number stops them all).
    const scope = (all: number[]) => (match.origin === 'tenant' ? all.filter((t) => t === tenantId) : all);
    if (match.action === 'stop') {
      for (const t of scope(await this.repo.tenantsSendingFrom(m.to))) {
        if (await this.optOuts.add(t, m.from, KEYWORD_SOURCE, match.word, change))
          await this.publishOptChange(t, 'recipient.opted_out', m.from, match.word, row.id);
      }
      return;
    }
    for (const t of scope(await this.repo.tenantsOptedOut(m.from))) {
      try {
        await this.optOuts.remove(t, m.from, { ...change, source: KEYWORD_SOURCE });
        await this.publishOptChange(t, 'recipient.opted_in', m.from, match.word, row.id);
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e; // removed meanwhile
      }
    }
  }

  private async replyText(tenantId: number | null, match: KeywordMatch): Promise<string | null> {
    try {
      const r = await this.templates.preview(
        tenantId ?? NO_TENANT,
        `keyword_${match.action}`,
        {},
        match.language,
      );
      return r.text.trim() || null;
    } catch (e) {
      this.logger.warn({ keyword: match.action, err: String(e) }, 'no keyword reply template');
      return null;
    }
  }

  list(tenantId: number, filter: Parameters<InboundRepository['list']>[1]): Promise<InboundRow[]> {
    return this.repo.list(tenantId, filter);
  }
}
