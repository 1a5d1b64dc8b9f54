import { useState } from 'preact/hooks';
import { api, type Schemas } from '../api';
import { fmtDate, fmtNumber, fmtPct, t } from '../i18n';
import { Card, ErrorNote, errorText, useLoad } from '../ui';

type Template = Schemas['TemplateResponseDto'];
type Significance = Schemas['VariantSignificanceDto'];

/**
 * A template's A/B test (docs/templates.md, A/B variants): each variant's outcomes side by side,
 * whether one wins (two-proportion z-test), and for admins the button that ends the test by
 * promoting a variant.
 */
export function VariantTest({
  template,
  admin,
  onPromoted,
}: {
  template: Template;
  admin: boolean;
  onPromoted: () => void;
}) {
  const path = { templateId: template.template_id };
  const stats = useLoad(
    () => api.GET('/api/sms/templates/{templateId}/variants', { params: { path } }),
    [template.template_id],
  );
  const [error, setError] = useState<string | null>(null);
  const s = stats.data;

  async function promote(key: string) {
    if (!window.confirm(t('promoteConfirm').replace('{key}', key))) return;
    setError(null);
    try {
      await api.POST('/api/sms/templates/{templateId}/variants/{key}/promote', {
        params: { path: { ...path, key } },
      });
      onPromoted();
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <Card title={t('abTest')} id="variant-test">
      <ErrorNote error={stats.error ?? error} />
      {s && !s.running && <p class="help">{t('noAbTest')}</p>}
      {s && s.running && (
        <>
          <p class="help">
            {t('testStarted')}: {fmtDate(s.started_at)}
            {s.winner && (
              <>
                {' · '}
                {t('winner')}: <strong data-testid="variant-winner">{s.winner}</strong>
              </>
            )}
          </p>
          <table class="table" data-testid="variant-table">
            <thead>
              <tr>
                <th>{t('variant')}</th>
                <th>{t('weight')}</th>
                <th>{t('sentMessages')}</th>
                <th>{t('delivered')}</th>
                <th>{t('clicked')}</th>
                <th>{t('converted')}</th>
                <th>
                  {t('cost')} ({s.currency})
                </th>
                {admin && <th />}
              </tr>
            </thead>
            <tbody>
              {s.variants.map((v) => (
                <tr key={v.key} data-testid={`variant-${v.key}`} class={v.key === s.winner ? 'on' : ''}>
                  <td>{v.key}</td>
                  <td>{fmtNumber(v.weight)}</td>
                  <td>{fmtNumber(v.messages)}</td>
                  <td>
                    {fmtNumber(v.delivered)} ({fmtPct(v.delivery_rate)})
                  </td>
                  <td>{v.clicked === null ? '—' : `${fmtNumber(v.clicked)} (${fmtPct(v.click_rate)})`}</td>
                  <td>
                    {fmtNumber(v.converted)} ({fmtPct(v.conversion_rate)})
                  </td>
                  <td>{v.cost ?? v.estimated_cost ?? '—'}</td>
                  {admin && (
                    <td>
                      <button
                        type="button"
                        data-testid={`promote-${v.key}`}
                        onClick={() => void promote(v.key)}
                      >
                        {t('promote')}
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          <SignificanceNote label={t('onConversion')} s={s.converted} />
          <SignificanceNote label={t('onClicks')} s={s.clicked} />
          <SignificanceNote label={t('onDelivery')} s={s.delivered} />
          <p class="help">{t('clicksPending')}</p>
        </>
      )}
    </Card>
  );
}

function SignificanceNote({ label, s }: { label: string; s: Significance }) {
  return (
    <p class={s.significant ? 'help ok' : 'help'}>
      {label}: {s.note}
    </p>
  );
}
