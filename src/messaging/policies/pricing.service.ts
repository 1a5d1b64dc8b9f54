import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ProviderName } from '../../core/message-types';
import { SmsPriceEntity } from '../message.entity';

/** Country code of prices that apply where no row names the destination country. */
export const ANY_COUNTRY = 'ZZ';
const REFRESH_MS = 60_000;

/**
 * Prices per segment from `sms_prices`, held in memory (the table is tiny and read on every send)
 * and reloaded every minute so edits apply without a restart.
 */
@Injectable()
export class PricingService implements OnModuleInit, OnModuleDestroy {
  private prices = new Map<string, SmsPriceEntity>();
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
    const rows = await this.ds.getRepository(SmsPriceEntity).find();
    this.prices = new Map(rows.map((r) => [`${r.provider}:${r.country}`, r]));
  }

  /** Price of `segments` segments to `country` through `provider`, or null when unpriced. */
  estimate(provider: ProviderName, country: string | null, segments: number): number | null {
    const row =
      this.prices.get(`${provider}:${country ?? ANY_COUNTRY}`) ??
      this.prices.get(`${provider}:${ANY_COUNTRY}`);
    if (!row) return null;
    return Math.round(row.pricePerSegment * segments * 1e6) / 1e6;
  }
}
