/**
 * Typed, validated configuration. Every setting is declared once here with its default, a
 * one-line description and whether it is sensitive; `.env.sms.example` and docs/settings.md are
 * generated from this list (`npm run env:example`; the groups of docs/settings.md are in
 * settings-doc.ts). `loadConfig` does no I/O: it reads the given environment and either returns
 * a frozen config or throws `ConfigError` naming every bad variable. (The entry points first fill
 * an unset JWT_SECRET from JWT_SECRET_FILE: `withJwtSecretFile` in secret-file.ts.)
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { validateCronExpression } from 'cron';
import { isSupportedCountry } from 'libphonenumber-js';
import { ProviderName } from '../core/message-types';

export type AppRole = 'api' | 'worker' | 'all';
export type ApiDocsMode = 'public' | 'auth' | 'off';
export type LogFormat = 'pretty' | 'json';

export class ConfigError extends Error {}

type Parser<T> = (raw: string, name: string) => T;

interface Setting<T> {
  description: string;
  default?: string;
  sensitive?: boolean;
  parse: Parser<T>;
}

const str: Parser<string> = (raw) => raw;
const optionalStr: Parser<string | undefined> = (raw) => (raw === '' ? undefined : raw);
const int =
  (min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> =>
  (raw, name) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number (got "${raw}")`);
    const n = Number(raw);
    if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max} (got ${n})`);
    return n;
  };
const bool: Parser<boolean> = (raw, name) => {
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false (got "${raw}")`);
};
const oneOf =
  <T extends string>(values: readonly T[]): Parser<T> =>
  (raw, name) => {
    if ((values as readonly string[]).includes(raw)) return raw as T;
    throw new ConfigError(`${name} must be one of ${values.join(', ')} (got "${raw}")`);
  };
const url =
  (protocols: string[]): Parser<string> =>
  (raw, name) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new ConfigError(`${name} must be a URL (${protocols.join(' or ')})`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new ConfigError(`${name} must be a URL starting with ${protocols.join(' or ')}`);
    }
    return raw.replace(/\/+$/, '');
  };
const optionalUrl =
  (protocols: string[]): Parser<string | undefined> =>
  (raw, name) =>
    raw === '' ? undefined : url(protocols)(raw, name);
/** `host:port,host:port`: a Redis Cluster's seed nodes (empty: none). */
const redisNodes: Parser<{ host: string; port: number }[]> = (raw, name) => {
  if (raw.trim() === '') return [];
  return raw.split(',').map((entry) => {
    const m = /^\s*([^\s:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})\s*$/.exec(entry);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535)
      throw new ConfigError(`${name} must be a comma-separated list of host:port (got "${entry.trim()}")`);
    return { host: m[1].replace(/^\[|\]$/g, ''), port };
  });
};
/**
 * TRUST_PROXY as Fastify's `trustProxy`: false (none), a number of hops, or the proxies' addresses
 * (IPs or CIDRs). `true` (any sender) is refused: any client could then choose its own address.
 */
const trustedProxies: Parser<false | number | string[]> = (raw, name) => {
  const v = raw.trim();
  if (v === '') return false;
  if (/^\d+$/.test(v)) return int(1, 10)(v, name);
  return v.split(',').map((entry) => {
    const [ip, bits, ...rest] = entry.trim().split('/');
    const family = isIP(ip);
    const max = family === 6 ? 128 : 32;
    if (
      family === 0 ||
      rest.length > 0 ||
      (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max))
    )
      throw new ConfigError(
        `${name} must be a number of proxy hops or a comma-separated list of IP addresses or CIDRs (got "${entry.trim()}")`,
      );
    return entry.trim();
  });
};
/** A comma-separated list, each entry one of `allowed` (trimmed, in the order given). */
const listOf =
  <T extends string>(allowed: readonly T[]): Parser<T[]> =>
  (raw, name) => {
    const names = raw.split(',').map((s) => s.trim());
    for (const n of names)
      if (!(allowed as readonly string[]).includes(n))
        throw new ConfigError(`${name} must be a comma-separated list of ${allowed.join(', ')} (got "${n}")`);
    return names as T[];
  };
const providerList: Parser<ProviderName[] | undefined> = (raw, name) =>
  raw.trim() === '' ? undefined : listOf<ProviderName>(['twilio', 'sns', 'sandbox'])(raw, name);

/** The delivery queues a worker consumes: `SMS_WORKER_QUEUES` (each once). */
const workerQueues: Parser<('delivery' | 'campaigns' | 'codes')[]> = (raw, name) => [
  ...new Set(listOf(['delivery', 'campaigns', 'codes'] as const)(raw, name)),
];

const optionalOneOf =
  <T extends string>(values: readonly T[]): Parser<T | undefined> =>
  (raw, name) =>
    raw === '' ? undefined : oneOf(values)(raw, name);
/** An ISO 3166-1 alpha-2 code that libphonenumber has numbering rules for ("us" is read as US). */
const countryCode: Parser<string> = (raw, name) => {
  const code = raw.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(code) || !isSupportedCountry(code)) {
    throw new ConfigError(
      `${name} must be an ISO 3166-1 alpha-2 country code such as US or TR (got "${raw}")`,
    );
  }
  return code;
};

/** A five-field cron expression (minute hour day-of-month month day-of-week), in the host's time zone. */
const cronExpression: Parser<string> = (raw, name) => {
  const expr = raw.trim().replace(/\s+/g, ' ');
  if (expr.split(' ').length !== 5 || !validateCronExpression(expr).valid)
    throw new ConfigError(
      `${name} must be a cron expression of five fields: minute hour day-of-month month day-of-week (got "${raw}")`,
    );
  return expr;
};

const HTTP = ['http:', 'https:'];

/** Comma-separated http(s) origins (scheme, host, port; no path). */
const originList: Parser<string> = (raw, name) => {
  for (const item of raw
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    let u: URL;
    try {
      u = new URL(item);
    } catch {
      throw new ConfigError(
        `${name} must be comma-separated origins like http://127.0.0.1:4566 (got "${item}")`,
      );
    }
    if (!HTTP.includes(u.protocol) || u.origin !== item.replace(/\/+$/, ''))
      throw new ConfigError(
        `${name} must be comma-separated origins like http://127.0.0.1:4566 (got "${item}")`,
      );
  }
  return raw;
};

/**
 * The catalogue. Order is the order of `.env.sms.example` and docs/settings.md, whose sections
 * (SETTING_GROUPS in settings-doc.ts) are runs of it: put a new setting inside its section's run.
 */
export const SETTINGS = {
  NODE_ENV: { description: 'development, test or production', default: 'development', parse: str },
  PORT: { description: 'HTTP port of the api role', default: '3000', parse: int(1, 65535) },
  HTTP_KEEP_ALIVE_TIMEOUT_MS: {
    description:
      "how long an idle keep-alive connection stays open; keep it above the load balancer's idle timeout (AWS ALB: 60 s), so the balancer, not the service, closes idle connections",
    default: '65000',
    parse: int(1000, 3600000),
  },
  HTTP_HEADERS_TIMEOUT_MS: {
    description:
      "longest wait for a request's headers, from its first byte; above HTTP_KEEP_ALIVE_TIMEOUT_MS and at most HTTP_REQUEST_TIMEOUT_MS",
    default: '66000',
    parse: int(1000, 3600000),
  },
  HTTP_REQUEST_TIMEOUT_MS: {
    description:
      'longest wait for a whole request (headers and body) from its first byte; not the time to answer it. 90 s takes an 8 MiB recipients upload at 0.75 Mbit/s',
    default: '90000',
    parse: int(1000, 3600000),
  },
  TRUST_PROXY: {
    description:
      "the load balancers or proxies in front of the api whose X-Forwarded-For names the client: their addresses or CIDRs (comma-separated), or a number of hops. Empty: none, the client is the connection's peer. Behind a balancer, set it: per-client limits (the tracked-link redirect's) otherwise count every client as the balancer",
    default: '',
    parse: trustedProxies,
  },
  APP_ROLE: {
    description: 'api (HTTP only), worker (queues and crons only) or all',
    default: 'all',
    parse: oneOf<AppRole>(['api', 'worker', 'all']),
  },
  LOG_LEVEL: {
    description: 'pino level: fatal, error, warn, info, debug, trace or silent',
    default: 'info',
    parse: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  },
  LOG_FORMAT: {
    description: 'pretty (readable lines) or json; empty: pretty when stdout is a terminal, json otherwise',
    default: '',
    parse: optionalOneOf<LogFormat>(['pretty', 'json']),
  },
  DATABASE_URL: {
    description: 'PostgreSQL connection URL (the database is created on start if missing)',
    default: 'postgres://postgres@127.0.0.1:5432/sms',
    sensitive: true,
    parse: url(['postgres:', 'postgresql:']),
  },
  DATABASE_POOL_SIZE: {
    description: 'PostgreSQL connections per process',
    default: '20',
    parse: int(1, 500),
  },
  DATABASE_ACQUIRE_TIMEOUT_MS: {
    description:
      'longest wait for a PostgreSQL connection (pool slot or connect); past it the request answers 503',
    default: '2000',
    parse: int(100, 60000),
  },
  DATABASE_STATEMENT_TIMEOUT_MS: {
    description: "PostgreSQL statement_timeout of the service's queries (migrations run without it)",
    default: '15000',
    parse: int(100, 3600000),
  },
  DATABASE_READ_URL: {
    description:
      'PostgreSQL streaming replica for history, stats, reports and exports (docs/operations.md "Read replica"); empty: every read on DATABASE_URL',
    default: '',
    sensitive: true,
    parse: optionalUrl(['postgres:', 'postgresql:']),
  },
  DATABASE_READ_MAX_LAG_MS: {
    description:
      'replica reads only while the replica is at most this far behind the primary; past it (or when it is down) they go to the primary',
    default: '5000',
    parse: int(0, 3600000),
  },
  DATABASE_READ_CHECK_INTERVAL_MS: {
    description:
      "at most how often each process measures the replica's lag and whether it answers (when a read, /health/ready or /metrics finds the last measure older)",
    default: '1000',
    parse: int(100, 60000),
  },
  DB_MIGRATE_ON_START: {
    description: 'create the database if missing and apply migrations when the service starts',
    default: 'true',
    parse: bool,
  },
  REDIS_URL: {
    description: 'Redis URL for queues and rate limits',
    default: 'redis://127.0.0.1:6379',
    sensitive: true,
    parse: url(['redis:', 'rediss:']),
  },
  REDIS_PREFIX: {
    description: 'key prefix of every Redis key this service writes',
    default: 'sms',
    parse: str,
  },
  REDIS_CLUSTER_NODES: {
    description:
      'Redis Cluster seed nodes (host:port, comma-separated). Empty: the single Redis of REDIS_URL. Set: every connection is a cluster client; REDIS_URL then gives only credentials and TLS',
    default: '',
    parse: redisNodes,
  },
  SMS_QUEUE_SHARDS: {
    description:
      'delivery queue shards (hash tags {<prefix>:sms:<n>}), chosen by tenant and lane, so a Redis Cluster spreads them over its masters. 0: 1 on a single Redis (its keys as before), 6 on a cluster',
    default: '0',
    parse: int(0, 64),
  },
  REDIS_COMMAND_TIMEOUT_MS: {
    description:
      "longest wait for a request's Redis command (rate and code limits) while the process is free to read its answer (time its event loop was busy does not count, once), on one Redis or a cluster in failover; past it the request answers 503. Other commands: four times this",
    default: '500',
    parse: int(50, 60000),
  },
  REDIS_CONNECT_TIMEOUT_MS: {
    description: "Redis connect timeout of every connection (the service's and Bull's)",
    default: '2000',
    parse: int(100, 60000),
  },
  JWT_SECRET: {
    description:
      'HS256 secret shared with the platform that signs tokens (>= 32 chars, >= 10 different characters; required in production). Unset outside production: the random secret of JWT_SECRET_FILE',
    default: '',
    sensitive: true,
    parse: str,
  },
  JWT_SECRET_FILE: {
    description:
      'outside production, when JWT_SECRET is unset: file holding the JWT secret, generated (random, mode 0600, directory 0700) on the first start and never overwritten; npm run token reads it too. Relative to the working directory',
    default: '.sms-secrets/jwt-secret',
    parse: str,
  },
  SMS_DATA_KEY: {
    description:
      'secret (>= 32 chars) for encrypting pending code messages and keying code and idempotency hashes; default: JWT_SECRET. Set it so JWT_SECRET can rotate without breaking codes in flight',
    default: '',
    sensitive: true,
    parse: optionalStr,
  },
  JWT_MAX_TTL_SECONDS: {
    description:
      'longest token lifetime accepted (exp - iat, or exp - now without iat); tokens without exp are refused',
    default: '86400',
    parse: int(60, 31536000),
  },
  SMS_REQUEST_RATE_LIMIT: {
    description:
      'requests per token (user and tenant) per minute, on every authenticated route; refused ones count too',
    default: '600',
    parse: int(1, 1000000),
  },
  API_DOCS: {
    description:
      'Swagger UI at /api/docs and /api/docs-json: public, auth (admin or super_admin bearer token) or off (404)',
    default: 'public',
    parse: oneOf<ApiDocsMode>(['public', 'auth', 'off']),
  },
  PUBLIC_BASE_URL: {
    description: 'public URL of this service, used for provider status callbacks',
    default: 'http://localhost:3000',
    parse: url(HTTP),
  },
  SMS_LINK_BASE_URL: {
    description:
      "origin of tracked short links (<this>/l/<code>, a tenant's link_tracking); unset: PUBLIC_BASE_URL. A shorter domain that routes /l/ to this service saves characters in every message (docs/sending.md#tracked-links)",
    default: '',
    parse: optionalUrl(HTTP),
  },
  SMS_LINK_CLICK_RATE_LIMIT: {
    description:
      'requests per client address per minute to the public tracked-link redirect GET /l/{code}; over it: 429',
    default: '120',
    parse: int(1, 1000000),
  },
  PROVIDER_CREDENTIALS_KEY: {
    description:
      "key (base64 of 32 bytes) that wraps the data keys of tenants' own provider accounts; unset: tenants cannot save an account and saved ones are not used (their messages wait)",
    default: '',
    sensitive: true,
    parse: optionalStr,
  },
  PROVIDER_CREDENTIALS_KEY_ID: {
    description:
      'id recorded with every data key wrapped under PROVIDER_CREDENTIALS_KEY (change it with the key)',
    default: 'k1',
    parse: str,
  },
  PROVIDER_CREDENTIALS_OLD_KEYS: {
    description:
      'earlier credential keys still read (not used for new records), comma-separated id:base64; a worker re-wraps every record under the current key when it starts; drop a key once none is left under it (docs/privacy.md)',
    default: '',
    sensitive: true,
    parse: optionalStr,
  },
  TWILIO_ACCOUNT_SID: {
    description: 'Twilio account SID (Twilio is enabled when SID and token are set)',
    default: '',
    parse: optionalStr,
  },
  TWILIO_AUTH_TOKEN: {
    description: 'Twilio auth token; also verifies webhook signatures',
    default: '',
    sensitive: true,
    parse: optionalStr,
  },
  TWILIO_PHONE_NUMBER: { description: 'sender number (E.164) for Twilio', default: '', parse: optionalStr },
  TWILIO_MESSAGING_SERVICE_SID: {
    description: 'Twilio messaging service SID; used instead of TWILIO_PHONE_NUMBER when set',
    default: '',
    parse: optionalStr,
  },
  TWILIO_WHATSAPP_FROM: {
    description:
      "WhatsApp sender number (E.164) for Twilio's WhatsApp sender, sent as whatsapp:+…; a tenant's `whatsapp_sender` setting replaces it; unset: WhatsApp sends are refused (400 naming channel)",
    default: '',
    parse: optionalStr,
  },
  TWILIO_API_BASE_URL: {
    description: 'send Twilio REST calls here instead of https://api.twilio.com (tests)',
    default: '',
    parse: optionalUrl(HTTP),
  },
  AWS_ACCESS_KEY_ID: {
    description: 'AWS key for SNS (SNS is enabled when key and secret are set)',
    default: '',
    parse: optionalStr,
  },
  AWS_SECRET_ACCESS_KEY: {
    description: 'AWS secret for SNS',
    default: '',
    sensitive: true,
    parse: optionalStr,
  },
  AWS_REGION: { description: 'AWS region of SNS', default: 'us-east-1', parse: str },
  AWS_SNS_ENDPOINT: {
    description: 'override the SNS endpoint (tests)',
    default: '',
    parse: optionalUrl(HTTP),
  },
  // SNS notifications (two-way SMS, delivery receipts) and receipt timeout
  SNS_TOPIC_ARNS: {
    description:
      'comma-separated SNS topic ARNs whose notifications /api/sms/webhooks/sns accepts (empty: none)',
    default: '',
    parse: str,
  },
  SNS_CERT_HOST_ALLOWLIST: {
    description:
      'comma-separated origins (e.g. http://127.0.0.1:4566) trusted for SNS signing certificates and SubscribeURLs besides https://sns.<region>.amazonaws.com (local stacks and tests only)',
    default: '',
    parse: originList,
  },
  SMS_RECEIPT_TIMEOUT_HOURS: {
    description:
      "a 'sent' message of a provider that cannot be asked (SNS) with no receipt after this long ends 'unknown'",
    default: '72',
    parse: int(1, 8760),
  },
  SMS_PROVIDERS: {
    description:
      'provider order, e.g. twilio,sns (default: every configured one, twilio first; sandbox when none)',
    default: '',
    parse: providerList,
  },
  SMS_PROVIDER_TIMEOUT_MS: {
    description: 'per-request provider timeout; a timeout is an unknown outcome (no fallback)',
    default: '10000',
    parse: int(100, 120000),
  },
  SMS_CIRCUIT_FAILURE_THRESHOLD: {
    description: 'consecutive failures that open a provider circuit',
    default: '5',
    parse: int(1, 1000),
  },
  SMS_CIRCUIT_COOLDOWN_MS: {
    description: 'how long an open circuit skips a provider before one trial',
    default: '30000',
    parse: int(100, 3600000),
  },
  SMS_ROUTING_ADAPTIVE: {
    description:
      'adaptive routing: per destination country, first attempts move away from a provider whose errors, latency, slow delivery or code conversion degrade (docs/sending.md#adaptive-routing); false: always the order of SMS_PROVIDERS',
    default: 'true',
    parse: bool,
  },
  SMS_ROUTING_REFRESH_MS: {
    description:
      'adaptive routing: how often each process adds its counts to the shared scores in Redis and reads them back',
    default: '1000',
    parse: int(100, 10000),
  },
  SMS_ROUTING_CALL_WINDOW_SECONDS: {
    description:
      'adaptive routing: window of the provider-call signals (error rate, latency); reaches up to 10 windows back while a destination has fewer than SMS_ROUTING_MIN_SAMPLES calls',
    default: '60',
    parse: int(1, 3600),
  },
  SMS_ROUTING_DELIVERY_WINDOW_MINUTES: {
    description:
      'adaptive routing: window of the delivery signals (receipts, slow delivery, time to delivered, code conversion), over sends older than SMS_ROUTING_SLOW_DELIVERY_SECONDS',
    default: '10',
    parse: int(1, 1440),
  },
  SMS_ROUTING_MIN_SAMPLES: {
    description:
      "adaptive routing: calls, matured sends or codes a signal needs for a provider and destination country before it judges; fewer: the provider's figures over every country",
    default: '20',
    parse: int(1, 100000),
  },
  SMS_ROUTING_ERROR_PERCENT: {
    description:
      'adaptive routing: call error rate (percent) at which a provider is fully degraded; its share of first attempts starts falling at half of it',
    default: '20',
    parse: int(1, 100),
  },
  SMS_ROUTING_ERROR_COUNT: {
    description:
      'adaptive routing: errors within one call window (over all destinations) that fully degrade a provider whatever the rate (GOV.UK Notify: 50 in 60 s)',
    default: '50',
    parse: int(1, 1000000),
  },
  SMS_ROUTING_LATENCY_MS: {
    description:
      'adaptive routing: mean provider call latency at which a provider is fully degraded (starts at half of it)',
    default: '3000',
    parse: int(10, 120000),
  },
  SMS_ROUTING_SLOW_DELIVERY_SECONDS: {
    description:
      'adaptive routing: a send without a final delivery receipt within this is slow (GOV.UK Notify: 5 minutes)',
    default: '300',
    parse: int(1, 86400),
  },
  SMS_ROUTING_SLOW_DELIVERY_PERCENT: {
    description:
      'adaptive routing: share (percent) of slow sends at which a provider is fully degraded (GOV.UK Notify: 15; starts at half of it)',
    default: '15',
    parse: int(1, 100),
  },
  SMS_ROUTING_CONVERSION_GAP_PERCENT: {
    description:
      "adaptive routing: how far (percent) a provider's code conversion rate may fall below the best provider's for the country before it is fully degraded (starts at half of it)",
    default: '30',
    parse: int(1, 100),
  },
  SMS_ROUTING_PROBE_PERCENT: {
    description:
      'adaptive routing: share (percent) of first attempts a fully degraded provider keeps, so that its recovery is seen',
    default: '5',
    parse: int(0, 50),
  },
  SANDBOX_LATENCY_MS: {
    description: 'sandbox provider: simulated send latency',
    default: '0',
    parse: int(0, 60000),
  },
  SANDBOX_DELIVERY_DELAY_MS: {
    description: 'sandbox provider: delay before the simulated delivery receipt',
    default: '1000',
    parse: int(0, 3600000),
  },
  SANDBOX_SLOW_RECEIPT_MS: {
    description:
      'sandbox provider and test mode: delay before the receipt of the slow-receipt test number +15005550014',
    default: '30000',
    parse: int(0, 3600000),
  },
  DEFAULT_COUNTRY_CODE: {
    description: 'ISO 3166-1 alpha-2 country used for numbers written without +country (e.g. US, TR)',
    default: 'US',
    parse: countryCode,
  },
  SMS_RATE_LIMIT: { description: 'recipients per user per rolling hour', default: '100', parse: int(1) },
  SMS_ADMIN_RATE_LIMIT: {
    description: 'recipients per admin user per rolling hour',
    default: '1000',
    parse: int(1),
  },
  SMS_RETENTION_DAYS: {
    description: 'messages older than this are deleted by the retention job',
    default: '90',
    parse: int(1, 36500),
  },
  SMS_BODY_RETENTION_DAYS: {
    description:
      "message and inbound bodies older than this are redacted by the retention job (status, cost and timing stay); a tenant's body_retention_days overrides it (docs/privacy.md#body-retention)",
    default: '30',
    parse: int(1, 3650),
  },
  SMS_AUDIT_RETENTION_DAYS: {
    description:
      'audit log entries older than this are deleted by the retention job (keep it above SMS_RETENTION_DAYS)',
    default: '400',
    parse: int(1, 36500),
  },
  SMS_PRIVACY_EXPORT_TTL_SECONDS: {
    description:
      "how long a data-subject export's file can be downloaded (then 404; the retention job deletes it)",
    default: '86400',
    parse: int(1, 2592000),
  },
  SMS_BULK_MAX: {
    description: 'most numbers in one send-bulk request',
    default: '10000',
    parse: int(1, 100000),
  },
  SMS_MAX_SEGMENTS: {
    description: 'longest accepted body, in SMS segments',
    default: '10',
    parse: int(1, 50),
  },
  SMS_WORKER_CONCURRENCY: {
    description: 'deliveries in flight per worker process',
    default: '20',
    parse: int(1, 1000),
  },
  SMS_WORKER_QUEUES: {
    description:
      'the delivery queues this worker takes jobs from: delivery (single sends and bulks), campaigns, codes; a codes-only worker keeps verification codes off processes busy with bulk work (every queue needs a worker somewhere)',
    default: 'delivery,campaigns,codes',
    parse: workerQueues,
  },
  SMS_CAMPAIGN_MPS: {
    description:
      'campaign messages handed to providers per second per tenant (paced in Redis across workers); a message over the rate waits, spending no attempt',
    default: '50',
    parse: int(1, 10000),
  },
  SMS_MAX_ATTEMPTS: {
    description: 'delivery attempts before a message fails',
    default: '5',
    parse: int(1, 50),
  },
  SMS_RETRY_BASE_MS: {
    description: 'first retry delay; doubles each attempt',
    default: '2000',
    parse: int(10, 3600000),
  },
  SMS_OUTAGE_TOLERANCE_MINUTES: {
    description:
      "while every provider's circuit is open a message waits for the next half-open trial without spending an attempt; it fails (with the last real provider error) only this long after it was created",
    default: '60',
    parse: int(1, 10080),
  },
  SMS_CURRENCY: { description: 'currency of prices and costs', default: 'USD', parse: str },
  SMS_REMINDER_LEAD_HOURS: {
    description: 'appointment reminders go out this many hours before the start (job: SMS_REMINDERS_CRON)',
    default: '24',
    parse: int(1, 168),
  },
  SMS_JOBS_CONCURRENCY: {
    description: 'per-tenant scheduled jobs (reminders, retention, status) run at once per worker process',
    default: '2',
    parse: int(1, 100),
  },
  SMS_REMINDERS_PER_JOB: {
    description: 'most reminders one per-tenant job sends; it queues itself again for the rest',
    default: '200',
    parse: int(1, 100000),
  },
  // The job registry's schedules (src/jobs/job-registry.ts; `npm run job -- --help` lists them).
  // Cron expressions are read in the host's time zone; every worker must share it.
  SMS_SWEEP_INTERVAL_MS: {
    description:
      'sweep job: how often a worker checks that Redis still holds the pending messages (idle rows are re-queued once a minute)',
    default: '2000',
    parse: int(100, 60000),
  },
  SMS_FALLBACK_INTERVAL_MS: {
    description:
      'fallback job: how often WhatsApp messages that failed or got no receipt in time go out once as SMS (fallback_channel)',
    default: '5000',
    parse: int(100, 600000),
  },
  SMS_WHATSAPP_FALLBACK_SECONDS: {
    description:
      "seconds a WhatsApp message with fallback_channel waits for a delivery receipt before it goes out as SMS; a tenant's `whatsapp_fallback_seconds` replaces it",
    default: '600',
    parse: int(5, 86400),
  },
  SMS_OUTCOMES_CRON: {
    description: 'outcomes job: when attempts of unknown outcome are settled by asking the provider',
    default: '* * * * *',
    parse: cronExpression,
  },
  SMS_CAMPAIGNS_CRON: {
    description:
      'campaigns job: when due scheduled campaigns start, lost snapshot jobs are re-added and finished campaigns complete',
    default: '* * * * *',
    parse: cronExpression,
  },
  SMS_REMINDERS_CRON: {
    description: 'reminders job: when per-tenant appointment reminder jobs are queued',
    default: '*/30 * * * *',
    parse: cronExpression,
  },
  SMS_STATUS_CRON: {
    description: 'status job: when the delivery status run is queued',
    default: '0 * * * *',
    parse: cronExpression,
  },
  SMS_RETENTION_CRON: {
    description: 'retention job: when the clean-up run is queued',
    default: '17 3 * * *',
    parse: cronExpression,
  },
  SMS_PARTITIONS_CRON: {
    description:
      "partitions job: when the ledger's monthly partitions (sms_messages, sms_message_events) are created ahead",
    default: '41 2 * * *',
    parse: cronExpression,
  },
  SMS_PARTITIONS_AHEAD_MONTHS: {
    description:
      'partitions job: months after the current one whose ledger partitions exist ahead (docs/operations.md#ledger-partitions)',
    default: '3',
    parse: int(1, 24),
  },
  SMS_STUCK_SENDING_MINUTES: {
    description:
      'a message still sending after this long (its worker died) is resolved by asking the provider, never failed',
    default: '15',
    parse: int(1, 1440),
  },
  SMS_CODE_TTL_SECONDS: {
    description:
      "lifetime of password-reset and 2FA codes, and their messages' default (and longest) validity period",
    default: '600',
    parse: int(30, 86400),
  },
  SMS_CODE_SENDS_PER_HOUR: {
    description:
      'code messages (password_reset, 2fa_code) per phone number per tenant per hour, on every path',
    default: '5',
    parse: int(1, 1000),
  },
  SMS_CODE_MAX_ATTEMPTS: {
    description: 'wrong tries before a code is burnt',
    default: '5',
    parse: int(1, 100),
  },
  SMS_CODE_PREFIX_LIMIT: {
    description:
      'code messages (password_reset, 2fa_code) per tenant to one number range (E.164 less its last 4 digits) per SMS_CODE_PREFIX_WINDOW_MINUTES (SMS pumping)',
    default: '20',
    parse: int(1, 1000000),
  },
  SMS_CODE_PREFIX_WINDOW_MINUTES: {
    description: 'rolling window of SMS_CODE_PREFIX_LIMIT, in minutes',
    default: '10',
    parse: int(1, 1440),
  },
  // Monitoring and alerts (src/monitoring)
  METRICS_TOKEN: {
    description:
      'bearer token required by GET /metrics (api role) and the worker metrics port; unset: open, which NODE_ENV=production refuses unless METRICS_PUBLIC=true',
    default: '',
    sensitive: true,
    parse: optionalStr,
  },
  METRICS_PUBLIC: {
    description:
      'true: /metrics may be served without METRICS_TOKEN in production (only behind a network that keeps the public out)',
    default: 'false',
    parse: bool,
  },
  QUEUE_DASHBOARD_PASSWORD: {
    description:
      'password (HTTP basic auth, any user name) of the Bull queue dashboard at /admin/queues on the api/all role; unset: the dashboard is off (404)',
    default: '',
    sensitive: true,
    parse: optionalStr,
  },
  METRICS_PORT: {
    description: 'worker role: port of its own GET /metrics server (0: none); api/all serve /metrics on PORT',
    default: '9464',
    parse: int(0, 65535),
  },
  SMS_ALERT_INTERVAL_MS: {
    description: 'how often the worker evaluates cost and failure-rate alerts and retries alert webhooks',
    default: '60000',
    parse: int(1000, 3600000),
  },
  SMS_FAILURE_ALERT_RATE: {
    description:
      "failure-rate alert: percent of a tenant's messages of the last 15 minutes that failed or were undelivered",
    default: '20',
    parse: int(1, 100),
  },
  SMS_FAILURE_ALERT_MIN: {
    description: 'failure-rate alert: fewest finished messages in the 15 minutes before the rate counts',
    default: '20',
    parse: int(1, 1000000),
  },
  // Analytics: the stats rollup.
  SMS_ROLLUP_FOLD_INTERVAL_MS: {
    description:
      'how often a worker folds pending stats deltas into the daily rollup (reads add unfolded deltas, so this is speed, not accuracy)',
    default: '5000',
    parse: int(100, 3600000),
  },
  // --- outbound webhooks (src/callbacks) ---
  WEBHOOK_ALLOW_INSECURE: {
    description:
      'alert webhooks and callbacks may use plain http and loopback, private or link-local addresses (tests and local development only; a production start refuses it)',
    default: 'false',
    parse: bool,
  },
  WEBHOOK_TIMEOUT_MS: {
    description: 'callbacks: time limit of one delivery attempt (connect, send, response headers)',
    default: '5000',
    parse: int(100, 30000),
  },
  WEBHOOK_DISPATCH_INTERVAL_MS: {
    description: 'callbacks: how often the worker looks for due deliveries',
    default: '1000',
    parse: int(10, 60000),
  },
  WEBHOOK_CONCURRENCY: {
    description: 'callbacks: most deliveries in flight per worker',
    default: '8',
    parse: int(1, 100),
  },
  WEBHOOK_RETRY_BASE_MS: {
    description: 'callbacks: first retry delay; doubled each attempt (with jitter), capped at one hour',
    default: '30000',
    parse: int(10, 3600000),
  },
  WEBHOOK_ENDPOINT_CONCURRENCY: {
    description:
      'callbacks: most deliveries in flight to one endpoint at once, across all workers (per-message status_callback_url deliveries count per tenant and host)',
    default: '2',
    parse: int(1, 100),
  },
  WEBHOOK_ENDPOINT_BACKOFF_AFTER: {
    description:
      'callbacks: failed attempts in a row (timeout, error, non-2xx answer) after which an endpoint takes no delivery for WEBHOOK_RETRY_BASE_MS, doubled with each further failure, capped at one hour',
    default: '3',
    parse: int(1, 1000),
  },
  WEBHOOK_ENDPOINT_PAUSE_AFTER: {
    description:
      'callbacks: failed attempts in a row that pause a registered endpoint until a replay of one of its deliveries or POST /api/sms/webhook-endpoints/{id}/resume; its deliveries wait, and still expire 24 hours after their event',
    default: '20',
    parse: int(1, 100000),
  },
} satisfies Record<string, Setting<unknown>>;

type Settings = typeof SETTINGS;
export type ConfigValues = { readonly [K in keyof Settings]: ReturnType<Settings[K]['parse']> };

/**
 * The development secret earlier READMEs published. Refused everywhere (it is public): a start
 * without JWT_SECRET uses the generated secret of JWT_SECRET_FILE instead (secret-file.ts).
 */
export const DEV_JWT_SECRET = 'dev-only-secret-do-not-use-in-production-0123456789';

/** Leeway for `exp` (and a future `iat`) between the platform's clock and ours. */
export const JWT_CLOCK_SKEW_SECONDS = 30;

/**
 * Why a secret is too weak to sign or key anything real, or null when it passes. The rule, kept
 * simple so an operator can check it by eye: at least 32 characters, at least 10 different
 * characters (catches blanks, 40 spaces, `aaaa…`, `abcabc…`), and not the published development
 * secret. `openssl rand -base64 32` (or `-hex 32`) always passes.
 */
export function weakSecretProblem(secret: string): string | null {
  if (secret.trim() === '') return 'is blank';
  if (secret === DEV_JWT_SECRET) return 'is the built-in development secret';
  if (secret.length < 32) return 'must be at least 32 characters';
  if (new Set(secret).size < 10)
    return 'must use at least 10 different characters (use `openssl rand -base64 32`)';
  return null;
}

export class AppConfig {
  /** Said loudly once at start (see AuthModule): insecure settings that are allowed outside production. */
  readonly startupWarnings: readonly string[];

  constructor(
    readonly values: ConfigValues,
    startupWarnings: string[] = [],
  ) {
    this.startupWarnings = Object.freeze([...startupWarnings]);
  }

  get<K extends keyof ConfigValues>(key: K): ConfigValues[K] {
    return this.values[key];
  }

  get isProduction(): boolean {
    return this.values.NODE_ENV === 'production';
  }

  /** The secret behind stored-data encryption and keyed hashes (SMS_DATA_KEY, else JWT_SECRET). */
  dataKey(): string {
    return this.values.SMS_DATA_KEY ?? this.values.JWT_SECRET;
  }

  runsApi(): boolean {
    return this.values.APP_ROLE !== 'worker';
  }

  runsWorker(): boolean {
    return this.values.APP_ROLE !== 'api';
  }

  /** Redis Cluster mode: REDIS_CLUSTER_NODES is set. */
  redisCluster(): boolean {
    return this.values.REDIS_CLUSTER_NODES.length > 0;
  }

  /** The delivery queue shards: SMS_QUEUE_SHARDS, or when 0, 1 on a single Redis and 6 on a cluster. */
  queueShards(): number {
    const n = this.values.SMS_QUEUE_SHARDS;
    return n > 0 ? n : this.redisCluster() ? 6 : 1;
  }
}

export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const errors: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    const raw = env[name] ?? setting.default ?? '';
    try {
      values[name] = setting.parse(raw, name);
    } catch (e) {
      errors.push(e instanceof ConfigError ? e.message : `${name} is invalid`);
    }
  }
  const warnings: string[] = [];
  if (errors.length === 0) {
    checkHttpTimeouts(values, errors);
    checkSecrets(values, errors, warnings);
    if (values.NODE_ENV === 'production') {
      checkProductionProviders(values, errors);
      // It would let any tenant point callbacks at the metadata service or the internal network.
      if (values.WEBHOOK_ALLOW_INSECURE)
        errors.push(
          'WEBHOOK_ALLOW_INSECURE=true is for tests and local development: NODE_ENV=production refuses it',
        );
      // Metrics tell an outsider the service's traffic, providers and errors: closed by default.
      if (!values.METRICS_TOKEN && !values.METRICS_PUBLIC)
        errors.push(
          'METRICS_TOKEN is not set: NODE_ENV=production serves /metrics only with a bearer token (set METRICS_TOKEN, or METRICS_PUBLIC=true when a private network guards it)',
        );
    }
  }
  if (errors.length > 0) throw new ConfigError(`Invalid configuration:\n- ${errors.join('\n- ')}`);
  return new AppConfig(Object.freeze(values) as ConfigValues, warnings);
}

/**
 * keep-alive < headers <= request. Headers above keep-alive is the rule load-balancer guides give
 * (older Node counted a kept-alive connection's idle time against the headers timeout, so that one
 * closed it first); Node refuses a headers timeout longer than the request timeout.
 */
function checkHttpTimeouts(values: Record<string, unknown>, errors: string[]): void {
  const keepAlive = values.HTTP_KEEP_ALIVE_TIMEOUT_MS as number;
  const headers = values.HTTP_HEADERS_TIMEOUT_MS as number;
  const request = values.HTTP_REQUEST_TIMEOUT_MS as number;
  if (headers <= keepAlive)
    errors.push(
      `HTTP_HEADERS_TIMEOUT_MS (${headers}) must be greater than HTTP_KEEP_ALIVE_TIMEOUT_MS (${keepAlive})`,
    );
  if (headers > request)
    errors.push(`HTTP_HEADERS_TIMEOUT_MS (${headers}) must be at most HTTP_REQUEST_TIMEOUT_MS (${request})`);
}

/**
 * JWT_SECRET (and SMS_DATA_KEY): in production a weak one stops the start, and the published
 * development secret stops it everywhere. Outside production a weak one is warned about, and a
 * blank one (a caller that did not go through `withJwtSecretFile`, as the entry points do) becomes
 * a random secret of this process only.
 */
function checkSecrets(values: Record<string, unknown>, errors: string[], warnings: string[]): void {
  const production = values.NODE_ENV === 'production';
  const secret = values.JWT_SECRET as string;
  const dataKey = values.SMS_DATA_KEY as string | undefined;
  if (secret === DEV_JWT_SECRET || dataKey === DEV_JWT_SECRET)
    errors.push(
      `${secret === DEV_JWT_SECRET ? 'JWT_SECRET' : 'SMS_DATA_KEY'} is the published development secret: anyone could sign tokens with it. ` +
        'Unset it (a start then generates a random one in JWT_SECRET_FILE) or set a random one (`openssl rand -base64 32`)',
    );
  if (production) {
    const problem = secret === DEV_JWT_SECRET ? null : weakSecretProblem(secret);
    if (problem) errors.push(`JWT_SECRET ${problem}: NODE_ENV=production needs a strong, private secret`);
    const keyProblem =
      dataKey === undefined || dataKey === DEV_JWT_SECRET ? null : weakSecretProblem(dataKey);
    if (keyProblem) errors.push(`SMS_DATA_KEY ${keyProblem}`);
    return;
  }
  if (secret === '') {
    values.JWT_SECRET = randomBytes(32).toString('base64url');
    warnings.push(
      'JWT_SECRET is not set: a random secret of this process only (tokens and stored codes do not survive it). ' +
        'Start through npm start, which keeps one in JWT_SECRET_FILE, or set JWT_SECRET.',
    );
  } else if (secret.length < 32) errors.push('JWT_SECRET must be at least 32 characters');
  if (dataKey !== undefined && dataKey.length < 32)
    errors.push('SMS_DATA_KEY must be at least 32 characters');
  if (secret === DEV_JWT_SECRET || (secret !== '' && secret.length < 32)) return;
  const problem = weakSecretProblem(values.JWT_SECRET as string);
  if (problem) {
    warnings.push(
      `JWT_SECRET ${problem}: anyone can sign tokens for this service (any tenant, super_admin). ` +
        'Allowed only because NODE_ENV is not production; set a random JWT_SECRET.',
    );
  }
}

/** In production the sandbox ("delivers" everything) runs only when SMS_PROVIDERS names it. */
function checkProductionProviders(values: Record<string, unknown>, errors: string[]): void {
  const twilio = Boolean(values.TWILIO_ACCOUNT_SID && values.TWILIO_AUTH_TOKEN);
  const sns = Boolean(values.AWS_ACCESS_KEY_ID && values.AWS_SECRET_ACCESS_KEY);
  const explicit = values.SMS_PROVIDERS as ProviderName[] | undefined;
  if (!explicit) {
    if (!twilio && !sns) {
      errors.push(
        'no SMS provider is configured: NODE_ENV=production needs TWILIO_ACCOUNT_SID + TWILIO_AUTH_TOKEN ' +
          'or AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (or SMS_PROVIDERS=sandbox to run the fake provider on purpose)',
      );
    }
    return;
  }
  if (explicit.includes('twilio') && !twilio)
    errors.push('SMS_PROVIDERS names twilio but TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN are not set');
  if (explicit.includes('sns') && !sns)
    errors.push('SMS_PROVIDERS names sns but AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set');
}
