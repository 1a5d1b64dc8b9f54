import { useState } from 'preact/hooks';
import { api, type Schemas } from '../api';
import { fmtDate, t } from '../i18n';
import { Card, ErrorNote, errorText, StatusBadge, useLoad } from '../ui';

type Endpoint = Schemas['EndpointDto'];

/** paused (until a replay or a resume), backing_off (until a time), inactive, or active. */
function endpointState(e: Endpoint): string {
  if (e.paused) return 'paused';
  if (e.backoff_until !== null && Date.parse(e.backoff_until) > Date.now()) return 'backing_off';
  return e.active ? 'active' : 'inactive';
}

/** The tenant's callback endpoints with their health, and the latest deliveries. */
export function Webhooks() {
  const endpoints = useLoad(() => api.GET('/api/sms/webhook-endpoints'), []);
  const deliveries = useLoad(
    () => api.GET('/api/sms/webhook-deliveries', { params: { query: { limit: 50 } } }),
    [],
  );
  const [error, setError] = useState<string | null>(null);
  const byId = new Map((endpoints.data ?? []).map((e) => [e.id, e]));

  async function resume(id: string) {
    setError(null);
    try {
      await api.POST('/api/sms/webhook-endpoints/{id}/resume', { params: { path: { id } } });
      endpoints.reload();
      deliveries.reload();
    } catch (e) {
      setError(errorText(e));
    }
  }

  return (
    <div class="stack">
      <Card title={t('webhookEndpoints')} id="webhook-endpoints">
        <ErrorNote error={endpoints.error ?? error} />
        <div class="scroll">
          <table class="table">
            <thead>
              <tr>
                <th>{t('url')}</th>
                <th>{t('events')}</th>
                <th>{t('status')}</th>
                <th>{t('failuresInARow')}</th>
                <th>{t('reason')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {endpoints.data?.map((e) => {
                const state = endpointState(e);
                return (
                  <tr key={e.id} data-testid="endpoint-row" data-state={state}>
                    <td class="body-cell">{e.url}</td>
                    <td>{e.events === null ? t('allEvents') : e.events.join(', ')}</td>
                    <td>
                      <StatusBadge status={state} />
                      {e.paused_at !== null && ` ${t('since')} ${fmtDate(e.paused_at)}`}
                      {state === 'backing_off' &&
                        e.backoff_until !== null &&
                        ` ${t('until')} ${fmtDate(e.backoff_until)}`}
                    </td>
                    <td>{e.consecutive_failures}</td>
                    <td>{e.paused_reason ?? ''}</td>
                    <td>
                      {(state === 'paused' || state === 'backing_off') && (
                        <button type="button" onClick={() => void resume(e.id)}>
                          {t('resume')}
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {endpoints.data?.length === 0 && <p>{t('none')}</p>}
        </div>
      </Card>
      <Card title={t('webhookDeliveries')} id="webhook-deliveries">
        <ErrorNote error={deliveries.error} />
        <div class="scroll">
          <table class="table">
            <thead>
              <tr>
                <th>{t('created')}</th>
                <th>{t('type')}</th>
                <th>{t('url')}</th>
                <th>{t('status')}</th>
                <th>{t('attempts')}</th>
                <th>{t('error')}</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.data?.items.map((d) => {
                const paused =
                  d.status === 'pending' && d.endpoint_id !== null && byId.get(d.endpoint_id)?.paused;
                return (
                  <tr key={d.id} data-testid="delivery-row">
                    <td>{fmtDate(d.created_at)}</td>
                    <td>{d.event_type}</td>
                    <td class="body-cell">{d.url}</td>
                    <td>
                      <StatusBadge status={d.status} /> {paused && <StatusBadge status="paused" />}
                    </td>
                    <td>{d.attempts}</td>
                    <td>
                      {d.last_error ?? (d.last_status_code !== null ? `HTTP ${d.last_status_code}` : '')}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {deliveries.data?.items.length === 0 && <p>{t('none')}</p>}
        </div>
      </Card>
    </div>
  );
}
