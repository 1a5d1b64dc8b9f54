import { api } from '../api';
import { fmtDate, t } from '../i18n';
import { Card, ErrorNote, useLoad } from '../ui';

export function Inbound() {
  const list = useLoad(() => api.GET('/api/sms/inbound', { params: { query: { limit: 50 } } }), []);
  return (
    <Card title={t('inbound')} id="inbound">
      <ErrorNote error={list.error} />
      <div class="scroll">
        <table class="table">
          <thead>
            <tr>
              <th>{t('received')}</th>
              <th>{t('from')}</th>
              <th>{t('channel')}</th>
              <th>{t('body')}</th>
              <th>{t('keyword')}</th>
              <th>{t('provider')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.items.map((m) => (
              <tr key={m.id} data-testid="inbound-row">
                <td>{fmtDate(m.received_at)}</td>
                <td>{m.from}</td>
                <td data-testid="inbound-channel">{m.channel}</td>
                <td class="body-cell">{m.body}</td>
                <td>{m.keyword ?? ''}</td>
                <td>{m.provider}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {list.data?.items.length === 0 && <p>{t('none')}</p>}
      </div>
    </Card>
  );
}
