import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { Keyring, open, parseKeyring, rewrap, Sealed, seal } from './envelope';

export type AccountProvider = 'twilio' | 'sns';
export const ACCOUNT_PROVIDERS: readonly AccountProvider[] = ['twilio', 'sns'];

/** A tenant's own Twilio account. */
export interface TwilioCredentials {
  account_sid: string;
  auth_token: string;
  phone_number?: string;
  messaging_service_sid?: string;
}

/** A tenant's own AWS account for SNS. */
export interface SnsCredentials {
  access_key_id: string;
  secret_access_key: string;
  region: string;
  /** An origination number or sender ID of that account (optional: the account's defaults). */
  origination_identity?: string;
}

export type AccountCredentials = TwilioCredentials | SnsCredentials;

/** What may be shown of an account: never a secret, only the last 4 characters of each. */
export interface AccountView {
  id: string;
  provider: AccountProvider;
  version: number;
  /** e.g. { account_sid_last4, auth_token_last4, phone_number } */
  public: Record<string, string | null>;
  key_id: string;
  checked_at: Date;
  created_at: Date;
  updated_at: Date;
}

/** An account with its credentials opened (this process only; never logged or returned). */
export interface OpenAccount {
  id: string;
  tenantId: number;
  provider: AccountProvider;
  version: number;
  credentials: AccountCredentials;
}

const SECRET_FIELDS: Record<AccountProvider, string[]> = {
  twilio: ['account_sid', 'auth_token'],
  sns: ['access_key_id', 'secret_access_key'],
};
const SHOWN_FIELDS: Record<AccountProvider, string[]> = {
  twilio: ['phone_number', 'messaging_service_sid'],
  sns: ['region', 'origination_identity'],
};

/** Pure: what is shown of credentials: each secret's last 4 characters, and the plain fields. */
export function publicView(provider: AccountProvider, c: AccountCredentials): Record<string, string | null> {
  const rec = c as unknown as Record<string, string | undefined>;
  const out: Record<string, string | null> = {};
  for (const f of SECRET_FIELDS[provider]) out[`${f}_last4`] = (rec[f] ?? '').slice(-4);
  for (const f of SHOWN_FIELDS[provider]) out[f] = rec[f] ?? null;
  return out;
}

const context = (tenantId: number, provider: AccountProvider) => `tenant:${tenantId}:${provider}`;

interface Row {
  id: string;
  tenant_id: number;
  provider: AccountProvider;
  version: number;
  key_id: string;
  wrapped_key: Buffer;
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
  public: Record<string, string | null>;
  checked_at: Date;
  created_at: Date;
  updated_at: Date;
}

const sealedOf = (r: Row): Sealed => ({
  keyId: r.key_id,
  wrappedKey: r.wrapped_key,
  ciphertext: r.ciphertext,
  iv: r.iv,
  tag: r.tag,
});

/**
 * `sms_provider_accounts`: tenants' own provider accounts, sealed with envelope encryption
 * (./envelope.ts) under the keyring of PROVIDER_CREDENTIALS_KEY(_ID) and _OLD_KEYS.
 */
@Injectable()
export class ProviderAccountsStore implements OnModuleInit {
  private readonly logger = new Logger(ProviderAccountsStore.name);
  readonly keyring: Keyring;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly config: AppConfig,
  ) {
    // A malformed key stops the start (CredentialsKeyError names the setting).
    this.keyring = parseKeyring(
      config.get('PROVIDER_CREDENTIALS_KEY'),
      config.get('PROVIDER_CREDENTIALS_KEY_ID'),
      config.get('PROVIDER_CREDENTIALS_OLD_KEYS'),
    );
  }

  /**
   * With a key, a worker re-wraps the data keys still under an older key at start (rotation).
   * Without one: in production, saved accounts without PROVIDER_CREDENTIALS_KEY stop the start: those tenants'
   * messages could not be sent. Elsewhere it is a warning (their messages wait).
   */
  async onModuleInit(): Promise<void> {
    if (this.keyring.current) {
      // Rotation: a worker re-wraps the data keys still under an old key (PROVIDER_CREDENTIALS_OLD_KEYS).
      if (!this.config.runsWorker()) return;
      const n = await this.rewrapAll().catch((e: unknown) => {
        this.logger.error(`provider credentials not re-wrapped: ${String(e)}`);
        return 0;
      });
      if (n) this.logger.log({ rewrapped: n }, 'provider credentials re-wrapped under the current key');
      return;
    }
    const n = await this.ds
      .query<{ n: number }[]>('SELECT count(*)::int AS n FROM sms_provider_accounts')
      .then((r) => r[0]?.n ?? 0)
      .catch(() => 0);
    if (n === 0) return;
    const why = `${n} tenant provider account(s) are saved but PROVIDER_CREDENTIALS_KEY is not set`;
    if (this.config.isProduction) throw new Error(`${why}: NODE_ENV=production needs it`);
    this.logger.warn(`${why}: those tenants' messages wait until it is`);
  }

  get canSeal(): boolean {
    return this.keyring.current !== null;
  }

  async list(tenantId: number): Promise<AccountView[]> {
    const rows = await this.ds.query<Row[]>(
      'SELECT * FROM sms_provider_accounts WHERE tenant_id = $1 ORDER BY provider',
      [tenantId],
    );
    return rows.map(viewOf);
  }

  /** The accounts' ids and versions: what a cached provider is checked against. */
  async versions(tenantId: number): Promise<{ id: string; provider: AccountProvider; version: number }[]> {
    return this.ds.query(
      'SELECT id::text AS id, provider, version FROM sms_provider_accounts WHERE tenant_id = $1 ORDER BY provider',
      [tenantId],
    );
  }

  async tenantOf(accountId: string): Promise<number | null> {
    if (!/^\d{1,18}$/.test(accountId)) return null;
    const rows = await this.ds.query<{ tenant_id: number }[]>(
      'SELECT tenant_id FROM sms_provider_accounts WHERE id = $1',
      [accountId],
    );
    return rows[0]?.tenant_id ?? null;
  }

  /** The tenant's accounts, opened; throws CredentialsKeyError when one does not open. */
  async open(tenantId: number): Promise<OpenAccount[]> {
    const rows = await this.ds.query<Row[]>(
      'SELECT * FROM sms_provider_accounts WHERE tenant_id = $1 ORDER BY provider',
      [tenantId],
    );
    return rows.map((r) => ({
      id: String(r.id),
      tenantId: r.tenant_id,
      provider: r.provider,
      version: r.version,
      credentials: JSON.parse(
        open(this.keyring, sealedOf(r), context(tenantId, r.provider)),
      ) as AccountCredentials,
    }));
  }

  /** Saves (replaces) the tenant's account for this provider; returns the view before and after. */
  async save(
    tenantId: number,
    provider: AccountProvider,
    credentials: AccountCredentials,
    checkedAt: Date,
  ): Promise<{ before: AccountView | null; after: AccountView }> {
    const s = seal(this.keyring, JSON.stringify(credentials), context(tenantId, provider));
    return this.ds.transaction(async (m) => {
      const old = await m.query<Row[]>(
        'SELECT * FROM sms_provider_accounts WHERE tenant_id = $1 AND provider = $2 FOR UPDATE',
        [tenantId, provider],
      );
      const rows = await m.query<Row[]>(
        `INSERT INTO sms_provider_accounts
           (tenant_id, provider, key_id, wrapped_key, ciphertext, iv, tag, public, checked_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $9, $9)
         ON CONFLICT (tenant_id, provider) DO UPDATE SET
           version = sms_provider_accounts.version + 1, key_id = EXCLUDED.key_id,
           wrapped_key = EXCLUDED.wrapped_key, ciphertext = EXCLUDED.ciphertext, iv = EXCLUDED.iv,
           tag = EXCLUDED.tag, public = EXCLUDED.public, checked_at = EXCLUDED.checked_at,
           updated_at = EXCLUDED.updated_at
         RETURNING *`,
        [
          tenantId,
          provider,
          s.keyId,
          s.wrappedKey,
          s.ciphertext,
          s.iv,
          s.tag,
          JSON.stringify(publicView(provider, credentials)),
          checkedAt,
        ],
      );
      return { before: old[0] ? viewOf(old[0]) : null, after: viewOf(rows[0]) };
    });
  }

  /** Removes the tenant's account for this provider; its view, or null when there was none. */
  async remove(tenantId: number, provider: AccountProvider): Promise<AccountView | null> {
    const rows = await this.ds.query<[Row[], number]>(
      'DELETE FROM sms_provider_accounts WHERE tenant_id = $1 AND provider = $2 RETURNING *',
      [tenantId, provider],
    );
    const deleted = rows[0];
    return deleted?.[0] ? viewOf(deleted[0]) : null;
  }

  /**
   * Key rotation: re-wraps every record not under the current key (a record under a key not
   * configured is left, and counted in an error log) (the credentials' ciphertext is
   * unchanged; `version` is not bumped: the credentials are the same). Returns how many changed.
   */
  async rewrapAll(): Promise<number> {
    const rows = await this.ds.query<Row[]>('SELECT * FROM sms_provider_accounts WHERE key_id <> $1', [
      this.keyring.current?.id ?? '',
    ]);
    let n = 0;
    let unreadable = 0;
    for (const r of rows) {
      let w: Pick<Sealed, 'keyId' | 'wrappedKey'> | null;
      try {
        w = rewrap(this.keyring, sealedOf(r), context(r.tenant_id, r.provider));
      } catch {
        unreadable++; // under a key this service no longer has: left as it is
        continue;
      }
      if (!w) continue;
      await this.ds.query(
        'UPDATE sms_provider_accounts SET key_id = $1, wrapped_key = $2 WHERE id = $3 AND key_id = $4',
        [w.keyId, w.wrappedKey, r.id, r.key_id],
      );
      n++;
    }
    if (unreadable)
      this.logger.error(
        { unreadable },
        'provider accounts under a key not in PROVIDER_CREDENTIALS_KEY or _OLD_KEYS: not re-wrapped, those tenants cannot send',
      );
    return n;
  }
}

function viewOf(r: Row): AccountView {
  return {
    id: String(r.id),
    provider: r.provider,
    version: r.version,
    public: r.public,
    key_id: r.key_id,
    checked_at: r.checked_at,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}
