import { Injectable } from '@nestjs/common';
import { RateLimitExceededError, ValidationFailedError } from '../../common/errors';
import { AppConfig } from '../../config/app-config';
import { MessageType } from '../../core/message-types';
import { LuaScript } from '../../redis/lua-script';
import { RedisService } from '../../redis/redis.module';
import type { TenantSettings } from '../../tenancy';
import {
  allowedCountries,
  CodeRule,
  codePrefix,
  countryOf,
  DestinationRule,
  destinationRefusal,
  isCodeType,
  refusalMessage,
} from './destination-rules';

/**
 * Sliding windows of one-minute buckets (Redis hashes, the format RateLimiterService uses), all
 * checked and then all taken by one script, so a refusal by one takes nothing from the others and
 * concurrent sends cannot both squeeze under a limit.
 * KEYS: hashes. ARGV[1]: minute now; then per key: count, limit, window in minutes.
 * Returns {1} when taken, or {0, index of the refusing key, used, oldest minute}.
 */
const TAKE = new LuaScript(`
local now = tonumber(ARGV[1])
for k = 1, #KEYS do
  local n = tonumber(ARGV[k * 3 - 1])
  local limit = tonumber(ARGV[k * 3])
  local window = tonumber(ARGV[k * 3 + 1])
  local kv = redis.call('HGETALL', KEYS[k])
  local used = 0
  local oldest = now
  for i = 1, #kv, 2 do
    local m = tonumber(kv[i])
    if m <= now - window then
      redis.call('HDEL', KEYS[k], kv[i])
    else
      used = used + tonumber(kv[i + 1])
      if m < oldest then oldest = m end
    end
  end
  if used + n > limit then
    return {0, k, used, oldest}
  end
end
for k = 1, #KEYS do
  redis.call('HINCRBY', KEYS[k], ARGV[1], ARGV[k * 3 - 1])
  redis.call('EXPIRE', KEYS[k], tonumber(ARGV[k * 3 + 1]) * 60 + 120)
end
return {1}
`);

interface Window {
  key: string;
  count: number;
  limit: number;
  minutes: number;
  rule: CodeRule;
  /** What the refusal says. */
  describe: (used: number) => string;
}

/** The code allowance one send took; given back when the send fails or is an idempotent replay. */
export class CodeAllowance {
  private taken: { key: string; count: number; minute: number }[] = [];

  constructor(
    private readonly policy: DestinationPolicy,
    private readonly tenantId: number,
    private readonly messageType: MessageType,
    private readonly now: Date,
  ) {}

  /** Takes the code limits for these recipients, or throws 429 naming the rule. No-op for other types. */
  async take(recipients: readonly { phoneNumber: string }[]): Promise<void> {
    if (!isCodeType(this.messageType) || recipients.length === 0) return;
    this.taken = await this.policy.takeCodeWindows(this.tenantId, recipients, this.now);
  }

  async refund(): Promise<void> {
    const taken = this.taken;
    this.taken = [];
    await this.policy.refund(taken).catch(() => undefined);
  }
}

/**
 * SMS pumping defences on the accept path:
 * - destinations: the tenant's `allowed_countries` (default DEFAULT_COUNTRY_CODE; `["*"]` opens),
 *   and premium-rate / shared-cost numbers refused always;
 * - code messages (password_reset, 2fa_code) on every path (verification, send-templated, SDK):
 *   at most SMS_CODE_SENDS_PER_HOUR per number (the key verification codes always used) and
 *   SMS_CODE_PREFIX_LIMIT per number range (E.164 less its last 4 digits) per
 *   SMS_CODE_PREFIX_WINDOW_MINUTES, per tenant.
 * Refusals name the rule: `details[].rule` of a 400/429, or a bulk's `rejected[].reason`.
 */
@Injectable()
export class DestinationPolicy {
  constructor(
    private readonly redis: RedisService,
    private readonly config: AppConfig,
  ) {}

  /**
   * The tenant's destination rule: for a valid E.164 number (and its country when known), the
   * rule that refuses it (country_not_allowed, premium_rate, shared_cost), or null. Reads nothing
   * but the tenant's settings. The accept path applies it to every way a message is accepted.
   */
  refusals(settings: TenantSettings): (e164: string, country: string | null) => DestinationRule | null {
    const allowed = allowedCountries(settings.allowed_countries, this.config.get('DEFAULT_COUNTRY_CODE'));
    return (e164, country) => destinationRefusal(e164, allowed, country);
  }

  /** The 400 of a single send to a refused destination, naming the rule. */
  refusalError(rule: DestinationRule, e164: string, country: string | null): ValidationFailedError {
    const message = refusalMessage(rule, e164, country ?? countryOf(e164));
    return new ValidationFailedError(message, [{ field: 'phone_number', errors: [message], rule }]);
  }

  /** The code limits of one send (nothing is taken until `take`). */
  codeAllowance(tenantId: number, messageType: MessageType, now: Date): CodeAllowance {
    return new CodeAllowance(this, tenantId, messageType, now);
  }

  /** @internal CodeAllowance.take: every window of every recipient at once, or a 429. */
  async takeCodeWindows(
    tenantId: number,
    recipients: readonly { phoneNumber: string }[],
    now: Date,
  ): Promise<{ key: string; count: number; minute: number }[]> {
    const perNumber = this.config.get('SMS_CODE_SENDS_PER_HOUR');
    const prefixLimit = this.config.get('SMS_CODE_PREFIX_LIMIT');
    const prefixMinutes = this.config.get('SMS_CODE_PREFIX_WINDOW_MINUTES');
    const windows: Window[] = [];
    const prefixes = new Map<string, number>();
    for (const { phoneNumber } of recipients) {
      windows.push({
        // The key verification codes have always used: counts survive a deploy of this change.
        // One slot per tenant's code windows (on a cluster): the script below takes them all.
        key: this.redis.keyInSlot(`code:${tenantId}`, 'rl', 'code', tenantId, phoneNumber),
        count: 1,
        limit: perNumber,
        minutes: 60,
        rule: 'code_number_limit',
        describe: (used) =>
          `rate limit exceeded: ${used} of ${perNumber} verification codes for this number used in the last hour, this request needs 1`,
      });
      const prefix = codePrefix(phoneNumber);
      prefixes.set(prefix, (prefixes.get(prefix) ?? 0) + 1);
    }
    for (const [prefix, count] of prefixes) {
      windows.push({
        key: this.redis.keyInSlot(`code:${tenantId}`, 'pump', tenantId, prefix),
        count,
        limit: prefixLimit,
        minutes: prefixMinutes,
        rule: 'code_prefix_velocity',
        describe: (used) =>
          `too many code messages to numbers starting ${prefix}: ${used} of ${prefixLimit} in the last ${prefixMinutes} minutes (SMS_CODE_PREFIX_LIMIT), this request needs ${count}`,
      });
    }
    const minute = Math.floor(now.getTime() / 60_000);
    const args = windows.flatMap((w) => [w.count, w.limit, w.minutes]);
    const answer = (await this.redis.inTime(
      TAKE.run(
        this.redis.client,
        windows.map((w) => w.key),
        [minute, ...args],
      ),
    )) as number[];
    if (answer[0] === 1) return windows.map((w) => ({ key: w.key, count: w.count, minute }));
    const [, index, used, oldest] = answer;
    const w = windows[index - 1];
    const retryAfter = Math.max(1, (oldest + w.minutes) * 60 - Math.floor(now.getTime() / 1000));
    const message = w.describe(used);
    throw new RateLimitExceededError(
      message,
      [
        {
          field: 'phone_number',
          errors: [message],
          rule: w.rule,
          limit: w.limit,
          used,
          window_minutes: w.minutes,
          retry_after_seconds: retryAfter,
        },
      ],
      { 'Retry-After': String(retryAfter) },
    );
  }

  /** @internal CodeAllowance.refund. */
  async refund(taken: readonly { key: string; count: number; minute: number }[]): Promise<void> {
    await Promise.all(
      taken.map((t) => this.redis.inTime(this.redis.client.hincrby(t.key, String(t.minute), -t.count))),
    );
  }
}
