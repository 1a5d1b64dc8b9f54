import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { api, type Schemas } from '../api';
import { actingTenant, isAdmin, isSuperAdmin, type Session } from '../auth';
import { fmtDate, fmtNumber, fmtPct, lang, t } from '../i18n';
import { Card, ErrorNote, Figure, Progress, StatusBadge, useLoad } from '../ui';
import { ConversionCard } from './conversion';
import { LinksCard } from './links';

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function daysBack(days: number): { start_date: string; end_date: string } {
  const end = new Date();
  const start = new Date(end.getTime() - (days - 1) * 86400000);
  return { start_date: isoDay(start), end_date: isoDay(end) };
}

function money(f: Schemas['StatsFiguresDto'], key: 'estimated_cost' | 'actual_cost'): string {
  if (f.costs_by_currency.length === 0) return '0';
  return f.costs_by_currency.map((c) => `${c[key]} ${c.currency}`).join(' + ');
}

export function Overview({ session }: { session: Session }) {
  const [days, setDays] = useState(30);
  const stats = useLoad(
    () => api.GET('/api/sms/stats', { params: { query: { group_by: 'day', ...daysBack(days) } } }),
    [days],
  );
  // Issue 25: the same period split by channel (sms, whatsapp, mms).
  const channels = useLoad(
    () => api.GET('/api/sms/stats/channels', { params: { query: daysBack(days) } }),
    [days],
  );
  const month = useLoad(() => {
    const now = new Date();
    const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    return api.GET('/api/sms/stats', {
      params: { query: { start_date: isoDay(first), end_date: isoDay(now) } },
    });
  }, []);
  // The tenant's cost_alert_threshold is readable through the tenants API, by a super_admin only.
  const superAdmin = isSuperAdmin(session);
  const tenantSettings = useLoad(
    () =>
      superAdmin
        ? api.GET('/api/sms/tenants/{id}', {
            params: { path: { id: actingTenant() ?? session.tenantId } },
          })
        : Promise.resolve(null),
    [superAdmin],
  );
  const threshold = tenantSettings.data?.settings.cost_alert_threshold;
  const health = useLoad(() => api.GET('/health/providers'), []);
  const admin = isAdmin(session);
  const alerts = useLoad(
    () => (admin ? api.GET('/api/sms/alerts', { params: { query: { limit: 5 } } }) : Promise.resolve(null)),
    [admin],
  );
  const totals = stats.data?.totals;
  return (
    <div class="grid">
      <Card title={t('overview')} id="overview-figures">
        <div class="row">
          {[30, 90].map((d) => (
            <button
              key={d}
              type="button"
              class={d === days ? 'toggle on' : 'toggle'}
              onClick={() => setDays(d)}
              aria-pressed={d === days}
            >
              {d} {t('days')}
            </button>
          ))}
        </div>
        <ErrorNote error={stats.error} />
        {totals ? (
          <div class="figures">
            <Figure id="fig-total" label={t('totalMessages')} value={fmtNumber(totals.total)} />
            <Figure id="fig-delivered" label={t('delivered')} value={fmtNumber(totals.delivered)} />
            <Figure id="fig-rate" label={t('deliveryRate')} value={fmtPct(totals.delivery_rate)} />
            <Figure
              id="fig-failed"
              label={t('failed')}
              value={fmtNumber(totals.failed + totals.undelivered)}
            />
            <Figure id="fig-segments" label={t('segments')} value={fmtNumber(totals.segments)} />
          </div>
        ) : (
          <p>{t('loading')}</p>
        )}
      </Card>
      <Card title={t('perDay')} id="chart-card">
        {stats.data && <DayChart stats={stats.data} />}
      </Card>
      <Card title={t('outcomes')} id="outcomes">
        {totals && (
          <table class="table">
            <tbody>
              {(
                [
                  'delivered',
                  'sent',
                  'queued',
                  'undelivered',
                  'failed',
                  'canceled',
                  'expired',
                  'unknown',
                ] as const
              ).map((k) => (
                <tr key={k}>
                  <td>
                    <StatusBadge status={k} />
                  </td>
                  <td class="num">{fmtNumber(totals[k])}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <Card title={t('byChannel')} id="channels">
        <ErrorNote error={channels.error} />
        {channels.data && <ChannelTable stats={channels.data} />}
      </Card>
      <ConversionCard conversion={stats.data?.conversion} />
      {admin && <LinksCard period={daysBack(days)} />}
      <Card title={t('costMtd')} id="cost">
        <ErrorNote error={month.error} />
        {month.data && (
          <div class="figures">
            <Figure
              id="fig-cost-estimated"
              label={t('estimated')}
              value={money(month.data.totals, 'estimated_cost')}
            />
            <Figure
              id="fig-cost-actual"
              label={t('actual')}
              value={money(month.data.totals, 'actual_cost')}
            />
            {threshold !== undefined && (
              <div class="figure" data-testid="cost-threshold">
                <div class="figure-value">{fmtNumber(threshold)}</div>
                <div class="figure-label">{t('threshold')}</div>
                {month.data.totals.estimated_cost !== null && threshold > 0 && (
                  <Progress value={Number(month.data.totals.estimated_cost) / threshold} />
                )}
              </div>
            )}
          </div>
        )}
      </Card>
      <Card title={t('providerHealth')} id="providers">
        <ErrorNote error={health.error} />
        {health.data && (
          <table class="table">
            <thead>
              <tr>
                <th>{t('provider')}</th>
                <th>{t('circuit')}</th>
                <th>{t('errorRate')}</th>
              </tr>
            </thead>
            <tbody>
              {health.data.providers.map((p) => (
                <tr key={p.provider}>
                  <td>{p.provider}</td>
                  <td>
                    <StatusBadge status={p.circuit.state} />
                  </td>
                  <td class="num">
                    {fmtPct(p.recent.error_rate)} ({fmtNumber(p.recent.calls)})
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <Card title={t('routing')} id="routing">
        {health.data && <RoutingShares routing={health.data.routing} />}
      </Card>
      {admin && (
        <Card title={t('openAlerts')} id="overview-alerts">
          <ErrorNote error={alerts.error} />
          {alerts.data && alerts.data.items.length === 0 && <p>{t('none')}</p>}
          <ul class="list">
            {alerts.data?.items.map((a) => (
              <li key={a.id}>
                <StatusBadge status={a.kind} /> {a.message} <small>{fmtDate(a.created_at)}</small>
              </li>
            ))}
          </ul>
        </Card>
      )}
    </div>
  );
}

/** Adaptive routing: each busy destination's share of first attempts per provider, and why. */
function RoutingShares({ routing }: { routing: Schemas['RoutingHealthDto'] }) {
  if (!routing.adaptive) return <p>{t('routingOff')}</p>;
  if (!routing.available) return <p>{t('routingStale')}</p>;
  if (routing.destinations.length <= 1) return <p>{t('routingNone')}</p>;
  return (
    <div class="scroll">
      <table class="table routing-table" data-testid="routing-shares">
        <thead>
          <tr>
            <th>{t('country')}</th>
            <th>{t('provider')}</th>
            <th>{t('share')}</th>
            <th>{t('score')}</th>
            <th>{t('why')}</th>
          </tr>
        </thead>
        <tbody>
          {routing.destinations.flatMap((d) =>
            d.providers.map((p, i) => (
              <tr key={`${d.country} ${p.provider}`}>
                <td>{i === 0 ? (d.country === '*' ? t('allCountries') : d.country) : ''}</td>
                <td>{p.provider}</td>
                <td class="num">
                  <Progress value={p.share} /> {fmtPct(p.share)}
                </td>
                <td class="num">{fmtNumber(p.score)}</td>
                <td>{p.reason ?? ''}</td>
              </tr>
            )),
          )}
        </tbody>
      </table>
    </div>
  );
}

/** Every UTC day of the period (days without messages are not in `groups`). */
function periodDays(start: string, end: string): string[] {
  const days: string[] = [];
  for (let d = Date.parse(`${start}T00:00:00Z`); d <= Date.parse(`${end}T00:00:00Z`); d += 86400000)
    days.push(new Date(d).toISOString().slice(0, 10));
  return days;
}

/** Messages, delivery and estimated cost per channel (sms, whatsapp, mms), and the WhatsApp fallbacks. */
function ChannelTable({ stats }: { stats: Schemas['ChannelStatsDto'] }) {
  if (stats.by_channel.length === 0) return <p>{t('none')}</p>;
  return (
    <>
      <div class="scroll">
        <table class="table" data-testid="channel-table">
          <thead>
            <tr>
              <th>{t('channel')}</th>
              <th class="num">{t('totalMessages')}</th>
              <th class="num">{t('delivered')}</th>
              <th class="num">{t('deliveryRate')}</th>
              <th class="num">{t('estimatedCost')}</th>
            </tr>
          </thead>
          <tbody>
            {stats.by_channel.map((c) => (
              <tr key={c.channel} data-testid={`channel-${c.channel}`}>
                <td>{c.channel}</td>
                <td class="num">{fmtNumber(c.total)}</td>
                <td class="num">{fmtNumber(c.delivered)}</td>
                <td class="num">{fmtPct(c.delivery_rate)}</td>
                <td class="num">
                  {c.estimated_cost === null ? '—' : `${c.estimated_cost} ${c.currency ?? ''}`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {stats.fallbacks > 0 && (
        <p data-testid="channel-fallbacks">
          {t('fallbacks')}: {fmtNumber(stats.fallbacks)}
        </p>
      )}
    </>
  );
}

/** Messages per day and the delivery rate (right axis), drawn by uPlot on a canvas. */
function DayChart({ stats }: { stats: Schemas['StatsResponseDto'] }) {
  const el = useRef<HTMLDivElement>(null);
  const l = lang.value;
  useEffect(() => {
    const box = el.current;
    if (!box) return;
    const byDay = new Map(stats.groups.map((g) => [g.key, g]));
    const days = periodDays(stats.period.start_date, stats.period.end_date);
    const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
    const totals = days.map((d) => byDay.get(d)?.total ?? 0);
    const rates = days.map((d) => {
      const r = byDay.get(d)?.delivery_rate;
      return r === undefined || r === null ? null : Math.round(r * 1000) / 10;
    });
    const width = Math.max(280, box.clientWidth || 600);
    const plot = new uPlot(
      {
        width,
        height: 240,
        scales: {
          // Half a day of room each side, so the first and last bars are whole.
          x: { time: true, range: (_u, min, max) => [min - 43200, max + 43200] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
          pct: { range: [0, 100] },
        },
        axes: [
          {},
          { label: t('totalMessages') },
          { scale: 'pct', side: 1, label: '%', grid: { show: false } },
        ],
        series: [
          { label: t('day') },
          {
            label: t('totalMessages'),
            stroke: '#2563eb',
            fill: 'rgba(37,99,235,0.35)',
            width: 1,
            paths: uPlot.paths.bars?.({ size: [0.7, 40] }),
            points: { show: false },
          },
          {
            label: t('deliveryRate'),
            stroke: '#16a34a',
            scale: 'pct',
            width: 2,
            spanGaps: true,
            points: { show: true },
          },
        ],
      },
      [xs, totals, rates],
      box,
    );
    const onResize = () => plot.setSize({ width: Math.max(280, box.clientWidth), height: 240 });
    addEventListener('resize', onResize);
    return () => {
      removeEventListener('resize', onResize);
      plot.destroy();
    };
  }, [stats, l]);
  return <div ref={el} class="chart" data-testid="chart" />;
}
