import { TestApp } from './test-app';
import { createDataSource } from '../../src/database/data-source';

/**
 * Lets a tenant send to these destination countries (setting `allowed_countries`; the default is
 * DEFAULT_COUNTRY_CODE only), through the tenants API as a platform operator would: creates the
 * tenant with the setting, or patches it when the tenant exists already. `more`: other settings.
 */

/**
 * For tests of something else that send promotional texts to Turkish numbers: no consent needed
 * (unset, promotional texts to TR numbers need granted consent: docs/privacy.md).
 */
export const NO_CONSENT_NEEDED = { promotional_consent: 'not_required' } as const;
export async function allowCountries(
  t: TestApp,
  tenant: number,
  countries: string[],
  more: Record<string, unknown> = {},
): Promise<void> {
  const operator = t.auth({ tenant: 1, roles: ['super_admin'] });
  const settings = { allowed_countries: countries, ...more };
  const created = await t
    .http()
    .post('/api/sms/tenants')
    .set(operator)
    .send({ id: tenant, name: `tenant ${tenant}`, settings });
  if (created.status === 201) return;
  if (created.status !== 409) throw new Error(`creating tenant ${tenant}: ${created.status} ${created.text}`);
  await t.http().patch(`/api/sms/tenants/${tenant}`).set(operator).send({ settings }).expect(200);
}

/**
 * Removes the tenant provider accounts saved since `since`. The suites of one run share a
 * database, and a saved account makes every later production start insist on
 * PROVIDER_CREDENTIALS_KEY (test/security/startup.e2e-spec.ts): a suite that saves accounts
 * forgets them when it ends (suites run one after another, so what it saved is all since its start).
 */
export async function forgetProviderAccounts(since: Date): Promise<void> {
  const ds = await createDataSource(process.env.DATABASE_URL as string, 1).initialize();
  try {
    await ds.query('DELETE FROM sms_provider_accounts WHERE created_at >= $1', [since]);
  } finally {
    await ds.destroy();
  }
}
