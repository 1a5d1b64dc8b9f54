import { useState } from 'preact/hooks';
import { api } from '../api';
import { setActingTenant } from '../auth';
import { fmtNumber, t } from '../i18n';
import { Card, ErrorNote, errorText, useLoad } from '../ui';

function monthToDate(): { start_date: string; end_date: string } {
  const now = new Date();
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  return { start_date: first.toISOString().slice(0, 10), end_date: now.toISOString().slice(0, 10) };
}

/**
 * super_admin: every tenant, its settings and this month's usage; "act for" switches the page to
 * it. Tracked links (the `link_tracking` setting) are switched here: only a super_admin changes a
 * tenant's settings (PATCH /api/sms/tenants/{id}, which changes only the settings it names).
 */
export function Tenants({ onSwitch }: { onSwitch: () => void }) {
  const list = useLoad(() => api.GET('/api/sms/tenants'), []);
  const usage = useLoad(
    () => api.GET('/api/sms/stats', { params: { query: { group_by: 'tenant', ...monthToDate() } } }),
    [],
  );
  const byTenant = new Map((usage.data?.groups ?? []).map((g) => [g.key, g]));
  return (
    <Card title={t('tenants')} id="tenants">
      <ErrorNote error={list.error ?? usage.error} />
      <div class="scroll">
        <table class="table">
          <thead>
            <tr>
              <th>ID</th>
              <th>{t('name')}</th>
              <th>{t('active')}</th>
              <th>{t('trackedLinks')}</th>
              <th>{t('settings')}</th>
              <th>{t('usageMtd')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data?.map((tn) => {
              const u = byTenant.get(String(tn.id));
              return (
                <tr key={tn.id} data-testid="tenant-row">
                  <td>{tn.id}</td>
                  <td class="campaign-name">{tn.name}</td>
                  <td>{tn.active ? '✓' : '✗'}</td>
                  <td>
                    <LinkTracking
                      key={`${tn.id}:${tn.settings.link_tracking === true}`}
                      id={tn.id}
                      on={tn.settings.link_tracking === true}
                      onChanged={list.reload}
                    />
                  </td>
                  <td>
                    <code class="settings">{JSON.stringify(tn.settings)}</code>
                  </td>
                  <td class="num">
                    {fmtNumber(u?.total ?? 0)}
                    {u?.estimated_cost ? ` · ${u.estimated_cost} ${u.currency ?? ''}` : ''}
                  </td>
                  <td>
                    <button
                      type="button"
                      class="secondary"
                      onClick={() => {
                        setActingTenant(tn.id);
                        onSwitch();
                      }}
                    >
                      {t('actFor')}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

/** The tenant's `link_tracking` setting as a checkbox: PATCHes that setting alone, then reloads the list. */
function LinkTracking({ id, on, onChanged }: { id: number; on: boolean; onChanged: () => void }) {
  const [checked, setChecked] = useState(on);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function change(next: boolean) {
    setChecked(next);
    setBusy(true);
    setError(null);
    try {
      await api.PATCH('/api/sms/tenants/{id}', {
        params: { path: { id } },
        body: { settings: { link_tracking: next } },
      });
    } catch (e) {
      setChecked(!next);
      setError(errorText(e));
    } finally {
      setBusy(false);
      onChanged();
    }
  }
  return (
    <>
      <label class="check">
        <input
          type="checkbox"
          name="link_tracking"
          checked={checked}
          disabled={busy}
          onChange={(e) => void change(e.currentTarget.checked)}
        />{' '}
        {t('linkTrackingOn')}
      </label>
      <ErrorNote error={error} />
    </>
  );
}
