import { useState } from 'preact/hooks';
import { api, type Schemas } from '../api';
import { fmtNumber, fmtPct, t } from '../i18n';
import { Card, ErrorNote, Figure, useLoad } from '../ui';

type Group = Schemas['LinkStatsResponseDto']['group_by'];
type Row = Schemas['LinkStatsRowDto'];

const GROUPS: Group[] = ['campaign', 'template', 'variant'];

/** A row's group as shown: the campaign id (shortened), the template, or template · variant. */
function label(group: Group, r: Row): string {
  if (group === 'campaign') return r.campaign_id ? r.campaign_id.slice(0, 8) : t('noCampaign');
  const template = r.template_id ?? t('noTemplate');
  return group === 'variant' ? `${template} · ${r.variant ?? '—'}` : template;
}

/**
 * Tracked links over the overview's period (admins): messages that carried short links, how many
 * were clicked (a message once) and the click rate, per campaign, template or variant
 * (`GET /api/sms/links/stats`).
 */
export function LinksCard({ period }: { period: { start_date: string; end_date: string } }) {
  const [group, setGroup] = useState<Group>('campaign');
  const stats = useLoad(
    () => api.GET('/api/sms/links/stats', { params: { query: { ...period, group_by: group } } }),
    [period.start_date, period.end_date, group],
  );
  const totals = stats.data?.totals;
  return (
    <Card title={t('trackedLinks')} id="links">
      <ErrorNote error={stats.error} />
      {totals && totals.messages === 0 && <p>{t('noTrackedLinks')}</p>}
      {totals && totals.messages > 0 && (
        <>
          <div class="figures">
            <Figure id="fig-link-messages" label={t('linkMessages')} value={fmtNumber(totals.messages)} />
            <Figure id="fig-link-clicked" label={t('linkClicked')} value={fmtNumber(totals.clicked)} />
            <Figure id="fig-link-rate" label={t('clickRate')} value={fmtPct(totals.click_rate)} />
            <Figure id="fig-link-hits" label={t('linkHits')} value={fmtNumber(totals.hits)} />
          </div>
          <div class="row">
            {GROUPS.map((g) => (
              <button
                key={g}
                type="button"
                class={g === group ? 'toggle on' : 'toggle'}
                aria-pressed={g === group}
                onClick={() => setGroup(g)}
              >
                {t(`by_${g}`)}
              </button>
            ))}
          </div>
          <div class="scroll">
            <table class="table" data-testid="link-stats">
              <thead>
                <tr>
                  <th>{t(`by_${group}`)}</th>
                  <th>{t('linkClicked')}</th>
                  <th>{t('clickRate')}</th>
                  <th>{t('linkHits')}</th>
                </tr>
              </thead>
              <tbody>
                {stats.data?.rows.map((r) => (
                  <tr key={`${r.campaign_id}|${r.template_id}|${r.variant}`}>
                    <td>{label(group, r)}</td>
                    <td class="num">
                      {fmtNumber(r.clicked)} / {fmtNumber(r.messages)}
                    </td>
                    <td class="num">{fmtPct(r.click_rate)}</td>
                    <td class="num">{fmtNumber(r.hits)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Card>
  );
}
