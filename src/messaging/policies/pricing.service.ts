import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Channel } from '../../core/channels';
import { ProviderName } from '../../core/message-types';
import { Micros, parseMoney } from '../../core/money';

/** Country code of prices that apply where no row names the destination country. */
export const ANY_COUNTRY = 'ZZ';
const REFRESH_MS = 60_000;

interface Price {
  perSegment: Micros;
  currency: string;
}

/**
 * Prices per segment from `sms_prices` (per provider and country, SNS included), held in memory
 * as exact micro-units (the table is tiny and read on every send) and reloaded every minute so
 * edits apply without a restart.
 */
@Injectable()
export class PricingService implements OnModuleInit, OnModuleDestroy {
  private prices = new Map<string, Price>();
  private timer?: NodeJS.Timeout;

  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async onModuleInit(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => void this.reload().catch(() => undefined), REFRESH_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async reload(): Promise<void> {
    // As text: the numeric is parsed exactly, never through a float.
    const rows: { provider: string; channel: string; country: string; price: string; currency: string }[] =
      await this.ds.query(
        'SELECT provider, channel, country, price_per_segment::text AS price, currency FROM sms_prices',
      );
    const prices = new Map<string, Price>();
    for (const r of rows) {
      const perSegment = parseMoney(r.price);
      if (perSegment !== null)
        prices.set(`${r.provider}:${r.channel}:${r.country}`, { perSegment, currency: r.currency });
    }
    this.prices = prices;
  }

  /**
   * Price in micro-units of `segments` segments to `country` through `provider` on `channel`, or
   * null when unpriced. WhatsApp and MMS are priced per message (their rows' price, segments 1).
   */
  estimate(
    provider: ProviderName,
    country: string | null,
    segments: number,
    channel: Channel = 'sms',
  ): Micros | null {
    const price = this.find(provider, country, channel);
    return price === undefined ? null : price.perSegment * segments;
  }

  /** The currency `estimate` is in for that provider and country (ISO 4217), or null when unpriced. */
  currency(provider: ProviderName, country: string | null): string | null {
    return this.find(provider, country)?.currency.trim() ?? null;
  }

  private find(provider: ProviderName, country: string | null, channel: Channel = 'sms'): Price | undefined {
    return (
      this.prices.get(`${provider}:${channel}:${country ?? ANY_COUNTRY}`) ??
      this.prices.get(`${provider}:${channel}:${ANY_COUNTRY}`)
    );
  }
}
