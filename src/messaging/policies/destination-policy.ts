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
    local m = tonumber(string.match(kv[i], '^%d+'))
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

/**
 * One code limit of one send: a number's hourly window or a range's velocity window. `match` says
 * which rows of the ledger it counts, for the ledger's stand-in (LedgerLimits).
 */
export interface CodeWindow {
  key: string;
  count: number;
  limit: number;
  minutes: number;
  rule: CodeRule;
  match: { number: string } | { prefix: string };
  /** What the refusal says. */
  describe: (used: number) => string;
}

/** A window taken: what a refund gives back, or a replay adds to Redis. */
export interface TakenWindow {
  key: string;
  count: number;
  minute: number;
  /** How long the window counts, so a replay sets the key's expiry (and skips what has left it). */
  minutes: number;
}

/** The code allowance one send took; given back when the send fails or is an idempotent replay. */
export class CodeAllowance {
  private taken: TakenWindow[] = [];

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

  /**
   * The code limits of a send to these recipients, in the order they are checked: each number's
   * hourly window (SMS_CODE_SENDS_PER_HOUR), then each range's (SMS_CODE_PREFIX_LIMIT).
   */
  codeWindows(tenantId: number, recipients: readonly { phoneNumber: string }[]): CodeWindow[] {
    const perNumber = this.config.get('SMS_CODE_SENDS_PER_HOUR');
    const prefixLimit = this.config.get('SMS_CODE_PREFIX_LIMIT');
    const prefixMinutes = this.config.get('SMS_CODE_PREFIX_WINDOW_MINUTES');
    const windows: CodeWindow[] = [];
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
        match: { number: phoneNumber },
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
        match: { prefix },
        describe: (used) =>
          `too many code messages to numbers starting ${prefix}: ${used} of ${prefixLimit} in the last ${prefixMinutes} minutes (SMS_CODE_PREFIX_LIMIT), this request needs ${count}`,
      });
    }
    return windows;
  }

  /** @internal CodeAllowance.take: every window of every recipient at once, or a 429. */
  async takeCodeWindows(
    tenantId: number,
    recipients: readonly { phoneNumber: string }[],
    now: Date,
  ): Promise<TakenWindow[]> {
    const windows = this.codeWindows(tenantId, recipients);
    const down = this.redis.refusalFor(windows[0].key); // one slot for them all
    if (down) throw down;
    const minute = Math.floor(now.getTime() / 60_000);
    const args = windows.flatMap((w) => [w.count, w.limit, w.minutes]);
    const answer = (await this.redis.inTime(
      TAKE.run(
        this.redis.client,
        windows.map((w) => w.key),
        [minute, ...args],
      ),
    )) as number[];
    if (answer[0] === 1) return windows.map((w) => takenWindow(w, minute));
    const [, index, used, oldest] = answer;
    throw codeRefusal(windows[index - 1], used, oldest, now);
  }

  /** @internal CodeAllowance.refund. */
  async refund(taken: readonly TakenWindow[]): Promise<void> {
    await Promise.all(
      taken.map((t) => this.redis.inTime(this.redis.client.hincrby(t.key, String(t.minute), -t.count))),
    );
  }
}

/** What a window took at `minute`. */
export function takenWindow(w: { key: string; count: number; minutes: number }, minute: number): TakenWindow {
  return { key: w.key, count: w.count, minute, minutes: w.minutes };
}

/**
 * The 429 of a code window that has no room: `used` in it, the oldest counted minute (Unix
 * minutes) for Retry-After. The same refusal whether Redis or the ledger counted.
 */
export function codeRefusal(
  w: CodeWindow,
  used: number,
  oldestMinute: number,
  now: Date,
): RateLimitExceededError {
  const retryAfter = Math.max(1, (oldestMinute + w.minutes) * 60 - Math.floor(now.getTime() / 1000));
  const message = w.describe(used);
  return new RateLimitExceededError(
    message,
    {
      field: 'phone_number',
      rule: w.rule,
      limit: w.limit,
      used,
      window_minutes: w.minutes,
      retry_after_seconds: retryAfter,
    },
    { 'Retry-After': String(retryAfter) },
  );
}
