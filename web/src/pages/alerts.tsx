import { api, withQuery } from '../api';
import { fmtDate, t } from '../i18n';
import { Card, ErrorNote, StatusBadge, useLoad } from '../ui';

interface Alert {
  id: string;
  kind: string;
  period: string;
  provider: string | null;
  message: string;
  created_at: string;
}

export function Alerts() {
  const list = useLoad(() => api<{ items: Alert[] }>(withQuery('/api/sms/alerts', { limit: 50 })), []);
  return (
    <Card title={t('alerts')} id="alerts">
      <ErrorNote error={list.error} />
      <div class="scroll">
        <table class="table">
          <thead>
            <tr>
              <th>{t('at')}</th>
              <th>{t('kind')}</th>
              <th>{t('message')}</th>
              <th>{t('provider')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.items.map((a) => (
              <tr key={a.id}>
                <td>{fmtDate(a.created_at)}</td>
                <td>
                  <StatusBadge status={a.kind} />
                </td>
                <td>{a.message}</td>
                <td>{a.provider ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {list.data?.items.length === 0 && <p>{t('none')}</p>}
      </div>
    </Card>
  );
}
