import { useEffect, useState } from 'preact/hooks';
import { api, type Answer } from '../api';
import { fmtDate, type Key, t } from '../i18n';
import { Card, ErrorNote, errorText, useLoad } from '../ui';

/** Saves an export's JSON (fetched with the session's token) as a file. */
async function saveExport(id: string): Promise<void> {
  const data = await api.GET('/api/sms/privacy/exports/{id}/download', { params: { path: { id } } });
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `sms-privacy-export-${id}.json`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Saves the tenant's İYS consent CSV (fetched with the session's token) as a file. */
async function saveConsentCsv(): Promise<void> {
  const csv = (await api.GET('/api/sms/consent/export', { parseAs: 'text' })) as unknown as string;
  const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = 'sms-consent-iys.csv';
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const consentWord = (status: string): string => t(`consent_${status}` as Key);

/** Body retention and the promotional-consent rule in words; one number's consent; the İYS CSV. */
function RetentionAndConsent() {
  const settings = useLoad(() => api.GET('/api/sms/privacy/settings'), []);
  const [phone, setPhone] = useState('');
  const [found, setFound] = useState<Answer<'/api/sms/consent', 'get'> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const s = settings.data;
  const rule =
    s?.promotional_consent === 'required'
      ? 'consentRuleRequired'
      : s?.promotional_consent === 'not_required'
        ? 'consentRuleNotRequired'
        : 'consentRuleDefault';
  async function run(fn: () => Promise<unknown>) {
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(errorText(e));
    }
  }
  return (
    <Card title={t('retentionConsent')} id="privacy-settings">
      <ErrorNote error={settings.error} />
      {s && (
        <ul>
          <li data-testid="privacy-retention">
            {t(s.body_retention_source === 'tenant' ? 'bodyRetentionTenant' : 'bodyRetentionDefault').replace(
              '{n}',
              String(s.body_retention_days),
            )}
          </li>
          <li data-testid="privacy-consent-rule">{t(rule)}</li>
        </ul>
      )}
      <h3>{t('consentLookup')}</h3>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFound(null);
          void run(async () =>
            setFound(await api.GET('/api/sms/consent', { params: { query: { phone_number: phone } } })),
          );
        }}
      >
        <label>
          {t('phone')}
          <input value={phone} onInput={(e) => setPhone(e.currentTarget.value)} required />
        </label>
        <button type="submit">{t('lookUp')}</button>
        <button type="button" class="secondary" onClick={() => void run(saveConsentCsv)}>
          {t('downloadCsv')}
        </button>
      </form>
      <p>{t('iysExport')}</p>
      <ErrorNote error={error} />
      {found && (
        <div data-testid="consent-found">
          <p>
            {found.phone_number} · {t('smsConsent')}: <strong>{consentWord(found.consent.sms.status)}</strong>
            {found.consent.sms.source
              ? ` (${found.consent.sms.source}, ${fmtDate(found.consent.sms.at)})`
              : ''}
          </p>
          <p>{t(found.promotional_consent_required ? 'consentNeeded' : 'consentNotNeeded')}</p>
          <div class="scroll">
            <table class="table">
              <thead>
                <tr>
                  <th>{t('consentGivenAt')}</th>
                  <th>{t('status')}</th>
                  <th>{t('source')}</th>
                  <th>{t('actor')}</th>
                  <th>{t('recordedAt')}</th>
                </tr>
              </thead>
              <tbody>
                {found.history.map((h, i) => (
                  <tr key={i}>
                    <td>{fmtDate(h.at)}</td>
                    <td>{consentWord(h.status)}</td>
                    <td>{h.keyword ? `${h.source} (${h.keyword})` : h.source}</td>
                    <td>{h.actor ?? ''}</td>
                    <td>{fmtDate(h.recorded_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {found.history.length === 0 && <p>{t('none')}</p>}
          </div>
        </div>
      )}
    </Card>
  );
}

function countsText(counts: Record<string, number> | null | undefined): string {
  return counts
    ? Object.entries(counts)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${k}: ${n}`)
        .join(', ')
    : '';
}

/**
 * Data-subject requests (docs/privacy.md): exports with their downloads, and erasures; and the
 * tenant's body retention and promotional consent.
 */
export function Privacy() {
  const exportsList = useLoad(() => api.GET('/api/sms/privacy/exports'), []);
  const erasures = useLoad(() => api.GET('/api/sms/privacy/erasures'), []);
  const [exportPhone, setExportPhone] = useState('');
  const [erasePhone, setErasePhone] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  // While an export runs, its progress is asked again every second.
  const running = exportsList.data?.some((r) => r.status === 'running') ?? false;
  useEffect(() => {
    if (!running) return;
    const timer = setTimeout(() => exportsList.reload(), 1000);
    return () => clearTimeout(timer);
  }, [running, exportsList.data]);
  async function run(fn: () => Promise<unknown>) {
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(errorText(e));
    }
    exportsList.reload();
    erasures.reload();
  }
  return (
    <>
      <RetentionAndConsent />
      <Card title={t('exports')} id="privacy-exports">
        <form
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              await api.POST('/api/sms/privacy/exports', { body: { phone_number: exportPhone } });
              setExportPhone('');
            });
          }}
        >
          <label>
            {t('phone')}
            <input value={exportPhone} onInput={(e) => setExportPhone(e.currentTarget.value)} required />
          </label>
          <button type="submit">{t('startExport')}</button>
        </form>
        <ErrorNote error={exportsList.error ?? error} />
        <div class="scroll">
          <table class="table">
            <thead>
              <tr>
                <th>{t('created')}</th>
                <th>{t('status')}</th>
                <th>{t('progress')}</th>
                <th>{t('counts')}</th>
                <th>{t('expires')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {exportsList.data?.map((r) => (
                <tr key={r.id}>
                  <td>{fmtDate(r.created_at)}</td>
                  <td>{r.status}</td>
                  <td>{r.progress}%</td>
                  <td>{countsText(r.counts)}</td>
                  <td>{r.expires_at ? fmtDate(r.expires_at) : ''}</td>
                  <td>
                    {r.download_url && (
                      <button
                        type="button"
                        class="secondary"
                        onClick={() => void run(() => saveExport(r.id))}
                      >
                        {t('download')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {exportsList.data?.length === 0 && <p>{t('none')}</p>}
        </div>
      </Card>
      <Card title={t('erasures')} id="privacy-erasures">
        <p>{t('eraseWarning')}</p>
        <form
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
            if (confirm !== 'erase') return;
            void run(async () => {
              await api.POST('/api/sms/privacy/erasures', {
                body: { phone_number: erasePhone, confirm: 'erase' },
              });
              setErasePhone('');
              setConfirm('');
            });
          }}
        >
          <label>
            {t('phone')}
            <input value={erasePhone} onInput={(e) => setErasePhone(e.currentTarget.value)} required />
          </label>
          <label>
            {t('eraseConfirm')}
            <input value={confirm} onInput={(e) => setConfirm(e.currentTarget.value)} required />
          </label>
          <button type="submit" disabled={confirm !== 'erase'}>
            {t('erase')}
          </button>
        </form>
        <ErrorNote error={erasures.error} />
        <div class="scroll">
          <table class="table">
            <thead>
              <tr>
                <th>{t('created')}</th>
                <th>{t('status')}</th>
                <th>{t('counts')}</th>
              </tr>
            </thead>
            <tbody>
              {erasures.data?.map((r) => (
                <tr key={r.id}>
                  <td>{fmtDate(r.created_at)}</td>
                  <td>{r.status}</td>
                  <td>{countsText(r.counts)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {erasures.data?.length === 0 && <p>{t('none')}</p>}
        </div>
      </Card>
    </>
  );
}
