import { useState } from 'preact/hooks';
import { api } from '../api';
import { fmtDate, t } from '../i18n';
import { Card, ErrorNote, errorText, StatusBadge, useLoad } from '../ui';

type Provider = 'twilio' | 'sns';

const FIELDS: Record<Provider, { name: string; secret?: boolean; required?: boolean }[]> = {
  twilio: [
    { name: 'account_sid', required: true },
    { name: 'auth_token', secret: true, required: true },
    { name: 'phone_number' },
    { name: 'messaging_service_sid' },
  ],
  sns: [
    { name: 'access_key_id', required: true },
    { name: 'secret_access_key', secret: true, required: true },
    { name: 'region', required: true },
    { name: 'origination_identity' },
  ],
};

/**
 * The tenant's own Twilio / AWS accounts (admins): what is set (last 4 characters only), each
 * account's circuit, and a form that saves one (checked by the service before it is stored).
 */
export function ProviderAccounts({ tenantId }: { tenantId: number }) {
  const path = { params: { path: { id: tenantId } } };
  const accounts = useLoad(() => api.GET('/api/sms/tenants/{id}/provider-accounts', path), [tenantId]);
  const [provider, setProvider] = useState<Provider>('twilio');
  const [values, setValues] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function save(e: Event) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const body = Object.fromEntries(
        FIELDS[provider].filter((f) => values[f.name]).map((f) => [f.name, values[f.name]]),
      );
      await api.PUT('/api/sms/tenants/{id}/provider-accounts/{provider}', {
        params: { path: { id: tenantId, provider } },
        body,
      });
      setValues({});
      accounts.reload();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  async function remove(p: string) {
    if (!confirm(t('removeAccountConfirm'))) return;
    setError(null);
    try {
      await api.DELETE('/api/sms/tenants/{id}/provider-accounts/{provider}', {
        params: { path: { id: tenantId, provider: p as Provider } },
      });
      accounts.reload();
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <div class="stack">
      <Card title={t('providerAccounts')} id="provider-accounts">
        <p class="help">{t('providerAccountsHelp')}</p>
        <ErrorNote error={accounts.error} />
        <div class="scroll">
          <table class="table">
            <thead>
              <tr>
                <th>{t('provider')}</th>
                <th>{t('shown')}</th>
                <th>{t('checked')}</th>
                <th>{t('circuit')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {accounts.data?.accounts.map((a) => (
                <tr key={a.id} data-testid="provider-account-row">
                  <td>{a.provider}</td>
                  <td class="body-cell">
                    {Object.entries(a.shown)
                      .filter(([, v]) => v !== null && v !== '')
                      .map(([k, v]) => `${k}: ${k.endsWith('_last4') ? `…${v}` : v}`)
                      .join(' · ')}
                  </td>
                  <td>{fmtDate(a.checked_at)}</td>
                  <td>{a.circuit ? <StatusBadge status={a.circuit.state} /> : ''}</td>
                  <td>
                    <button type="button" onClick={() => void remove(a.provider)}>
                      {t('remove')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {accounts.data?.accounts.length === 0 && <p>{t('noOwnAccount')}</p>}
        </div>
      </Card>
      <Card title={t('setProviderAccount')} id="provider-account-form">
        <form class="form" onSubmit={save}>
          <label>
            {t('provider')}
            <select
              name="provider"
              value={provider}
              onChange={(e) => {
                setProvider(e.currentTarget.value as Provider);
                setValues({});
              }}
            >
              <option value="twilio">Twilio</option>
              <option value="sns">AWS SNS</option>
            </select>
          </label>
          {FIELDS[provider].map((f) => (
            <label key={f.name}>
              {f.name}
              {f.secret ? (
                <input
                  name={f.name}
                  type="password"
                  autoComplete="off"
                  value={values[f.name] ?? ''}
                  required={f.required}
                  onInput={(e) => setValues({ ...values, [f.name]: e.currentTarget.value })}
                />
              ) : (
                <input
                  name={f.name}
                  autoComplete="off"
                  value={values[f.name] ?? ''}
                  required={f.required}
                  onInput={(e) => setValues({ ...values, [f.name]: e.currentTarget.value })}
                />
              )}
            </label>
          ))}
          <ErrorNote error={error} />
          <button type="submit" disabled={busy}>
            {t('checkAndSave')}
          </button>
        </form>
      </Card>
    </div>
  );
}
