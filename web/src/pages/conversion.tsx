import type { Schemas } from '../api';
import { fmtNumber, fmtPct, lang, t } from '../i18n';
import { Card, Figure } from '../ui';

type Conversion = Schemas['ConversionStatsDto'];
type Group = Schemas['ConversionGroupDto'];

/** A time to convert (ms, a histogram bucket's upper bound) in seconds. */
function fmtSeconds(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return new Intl.NumberFormat(lang.value === 'tr' ? 'tr-TR' : 'en-US', {
    style: 'unit',
    unit: 'second',
    maximumFractionDigits: 1,
  }).format(ms / 1000);
}

/** One breakdown of the stats' `conversion`: per provider or per destination country. */
function GroupTable({ head, groups, id }: { head: string; groups: Group[]; id: string }) {
  return (
    <div class="scroll">
      <table class="table" data-testid={id}>
        <thead>
          <tr>
            <th>{head}</th>
            <th>{t('convertedOfSent')}</th>
            <th>{t('rate')}</th>
            <th>p50</th>
            <th>p95</th>
          </tr>
        </thead>
        <tbody>
          {groups.map((g) => (
            <tr key={g.key ?? '—'}>
              <td>{g.key ?? '—'}</td>
              <td class="num">
                {fmtNumber(g.converted)} / {fmtNumber(g.sent)}
              </td>
              <td class="num">{fmtPct(g.conversion_rate)}</td>
              <td class="num">{fmtSeconds(g.time_to_convert_ms.p50)}</td>
              <td class="num">{fmtSeconds(g.time_to_convert_ms.p95)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * Code conversion over the overview's period: how many verification codes were checked
 * successfully, and how long after they were sent (the stats' `conversion`, no request of its own).
 */
export function ConversionCard({ conversion }: { conversion: Conversion | null | undefined }) {
  if (!conversion) return null;
  const totals = conversion.totals;
  return (
    <Card title={t('codeConversion')} id="conversion">
      <div class="figures">
        <Figure id="fig-conversion-rate" label={t('conversionRate')} value={fmtPct(totals.conversion_rate)} />
        <Figure
          id="fig-convert-p50"
          label={t('timeToConvertP50')}
          value={fmtSeconds(totals.time_to_convert_ms.p50)}
        />
        <Figure
          id="fig-convert-p95"
          label={t('timeToConvertP95')}
          value={fmtSeconds(totals.time_to_convert_ms.p95)}
        />
        <Figure
          id="fig-codes"
          label={t('convertedOfSent')}
          value={`${fmtNumber(totals.converted)} / ${fmtNumber(totals.sent)}`}
        />
      </div>
      {conversion.by_provider.length > 0 && (
        <GroupTable head={t('provider')} groups={conversion.by_provider} id="conversion-providers" />
      )}
      {conversion.by_country.length > 0 && (
        <GroupTable head={t('country')} groups={conversion.by_country} id="conversion-countries" />
      )}
    </Card>
  );
}
