import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import {
  CODE_MESSAGE_TYPES,
  findUrls,
  LINK_PATH,
  linkCodes,
  MessageType,
  RandomBytes,
  rewriteUrls,
} from '../../core';
import type { TenantSettings } from '../../tenancy';
import type { NewLink } from '../repositories/messages.repository';

/** A body whose URLs stand as placeholder short links, to be measured once and given codes per message. */
export interface LinkPlan {
  /** The body with each distinct URL replaced by `<base>/l/<placeholder code>`. */
  text: string;
  /** The placeholders, each with the URL it stands for. */
  links: NewLink[];
}

/**
 * Tracked links on the accept path (docs/sending.md#tracked-links). A tenant's `link_tracking`
 * turns every http(s) URL of a message body into `<base>/l/<code>`, before the body is smart
 * encoded, measured and priced, so segments and cost count the short link. Never for codes
 * (password_reset, 2fa_code), a text carrying a secret, or a template marked `exact` (its text is
 * sent exactly as written).
 *
 * A send or bulk shares one body: it is rewritten once with placeholder codes (all codes have the
 * same length and base62 characters are GSM-7, so every message measures the same), then each
 * message gets its own codes (`perMessage`): a click names its message.
 */
@Injectable()
export class LinkTracker {
  /** `<origin>/l/`: what a short link starts with. */
  readonly prefix: string;
  private readonly base: string;
  private readonly random: RandomBytes;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    config: AppConfig,
  ) {
    this.base = config.get('SMS_LINK_BASE_URL') ?? config.get('PUBLIC_BASE_URL');
    this.prefix = this.base + LINK_PATH;
    this.random = randomBytes;
  }

  /** Whether this tenant's messages of this kind get tracked links. */
  appliesTo(
    settings: TenantSettings,
    m: { messageType: MessageType; exact?: boolean; secrets?: string[] },
  ): boolean {
    if (CODE_MESSAGE_TYPES.includes(m.messageType)) return false;
    if (m.exact === true || (m.secrets?.length ?? 0) > 0) return false;
    return settings.link_tracking === true;
  }

  /** `body` with its URLs as placeholder short links; null when it has none. */
  plan(body: string): LinkPlan | null {
    const found = findUrls(body, this.prefix);
    if (found.length === 0) return null;
    const codes = linkCodes(found.length, this.random);
    let i = 0;
    return rewriteUrls(body, this.base, () => codes[i++], found);
  }

  /**
   * `count` messages' bodies: the planned (already smart-encoded) text with each placeholder code
   * replaced by a fresh code, and each message's links. One draw of random bytes for them all.
   */
  perMessage(text: string, plan: LinkPlan, count: number): { body: string; links: NewLink[] }[] {
    const codes = linkCodes(count * plan.links.length, this.random);
    const out: { body: string; links: NewLink[] }[] = new Array(count);
    let c = 0;
    for (let i = 0; i < count; i++) {
      let body = text;
      const links: NewLink[] = [];
      for (const p of plan.links) {
        const code = codes[c++];
        body = body.replaceAll(this.prefix + p.code, this.prefix + code);
        links.push({ code, url: p.url });
      }
      out[i] = { body, links };
    }
    return out;
  }

  /**
   * Codes already taken (a 47-bit draw meets an existing code about once in 10^6 bulks of 10,000
   * once the table holds 10^8 links): each is drawn again and replaced in its message's body, so
   * the insert never fails on the codes' uniqueness. One indexed read for a whole bulk.
   */
  async settle(rows: { body: string; links?: NewLink[] }[]): Promise<void> {
    const codes = rows.flatMap((r) => (r.links ?? []).map((l) => l.code));
    if (codes.length === 0) return;
    for (let round = 0; round < 5; round++) {
      const seen = new Set<string>();
      const clash = new Set<string>();
      for (const c of codes) (seen.has(c) ? clash : seen).add(c);
      const taken: { code: string }[] = await this.ds.query(
        'SELECT code FROM sms_links WHERE code = ANY($1::varchar[])',
        [codes],
      );
      for (const t of taken) clash.add(t.code);
      if (clash.size === 0) return;
      codes.length = 0;
      for (const r of rows)
        for (const l of r.links ?? []) {
          if (clash.has(l.code)) {
            // One holder of an in-batch duplicate draws again; the next round checks the other.
            clash.delete(l.code);
            const [fresh] = linkCodes(1, this.random);
            r.body = r.body.replaceAll(this.prefix + l.code, this.prefix + fresh);
            l.code = fresh;
          }
          codes.push(l.code);
        }
    }
  }
}
