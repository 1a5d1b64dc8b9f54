import { useState } from 'preact/hooks';
import { api } from '../api';
import { fmtDate, t } from '../i18n';
import { Card, ErrorNote, errorText, useLoad } from '../ui';

export function OptOuts() {
  const list = useLoad(() => api.GET('/api/sms/opt-outs'), []);
  const [phone, setPhone] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  async function run(fn: () => Promise<unknown>) {
    setError(null);
    try {
      await fn();
      list.reload();
    } catch (e) {
      setError(errorText(e));
    }
  }
  return (
    <Card title={t('optOuts')} id="opt-outs">
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            await api.POST('/api/sms/opt-outs', {
              body: { phone_number: phone, reason: reason || undefined },
            });
            setPhone('');
            setReason('');
          });
        }}
      >
        <label>
          {t('phone')}
          <input value={phone} onInput={(e) => setPhone(e.currentTarget.value)} required />
        </label>
        <label>
          {t('reason')}
          <input value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </label>
        <button type="submit">{t('add')}</button>
      </form>
      <ErrorNote error={list.error ?? error} />
      <div class="scroll">
        <table class="table">
          <thead>
            <tr>
              <th>{t('phone')}</th>
              <th>{t('source')}</th>
              <th>{t('reason')}</th>
              <th>{t('created')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data?.map((o) => (
              <tr key={o.phone_number}>
                <td>{o.phone_number}</td>
                <td>{o.source}</td>
                <td>{o.reason ?? ''}</td>
                <td>{fmtDate(o.created_at)}</td>
                <td>
                  <button
                    type="button"
                    class="secondary"
                    onClick={() =>
                      void run(() =>
                        api.DELETE('/api/sms/opt-outs/{phoneNumber}', {
                          params: { path: { phoneNumber: o.phone_number } },
                        }),
                      )
                    }
                  >
                    {t('remove')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {list.data?.length === 0 && <p>{t('none')}</p>}
      </div>
    </Card>
  );
}
