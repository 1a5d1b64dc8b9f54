import { DEFAULT_ALPHA, DEFAULT_MIN_SAMPLE, Significance } from '../core/significance';
import type { VariantStats } from './templates.service';
import type { VariantSignificanceDto, VariantStatsResponseDto } from './templates.dto';

function rate(part: number | null, whole: number): number | null {
  if (part === null || whole === 0) return null;
  return Math.round((part / whole) * 10_000) / 10_000;
}

function toSignificance(s: Significance): VariantSignificanceDto {
  return {
    leader: s.leader,
    runner_up: s.runnerUp,
    z: Math.round(s.z * 1000) / 1000,
    p_value: Math.round(s.pValue * 1_000_000) / 1_000_000,
    significant: s.significant,
    enough_data: s.enoughData,
    alpha: DEFAULT_ALPHA,
    min_sample: DEFAULT_MIN_SAMPLE,
    note: s.note,
  };
}

/** A test's stats as the API answers them. */
export function toVariantStatsResponse(s: VariantStats, currency: string): VariantStatsResponseDto {
  // The outcome closest to what the text is for wins first: a verified code, then a click, then delivery.
  const winner = s.converted.significant
    ? { key: s.converted.leader, metric: 'converted' as const }
    : s.clicked.significant
      ? { key: s.clicked.leader, metric: 'clicked' as const }
      : s.delivered.significant
        ? { key: s.delivered.leader, metric: 'delivered' as const }
        : null;
  return {
    template_id: s.template.templateId,
    running: s.running,
    test_id: s.running ? s.template.variantTestId : null,
    started_at: s.running ? (s.template.variantsStartedAt?.toISOString() ?? null) : null,
    currency,
    variants: s.variants.map(({ variant, counts }) => ({
      key: variant.key,
      weight: variant.weight,
      messages: counts.messages,
      delivered: counts.delivered,
      delivery_rate: rate(counts.delivered, counts.messages),
      clicked: counts.clicked,
      click_rate: rate(counts.clicked, counts.messages),
      converted: counts.converted,
      conversion_rate: rate(counts.converted, counts.messages),
      cost: counts.cost,
      estimated_cost: counts.estimatedCost,
    })),
    winner: winner?.key ?? null,
    winner_metric: winner?.metric ?? null,
    delivered: toSignificance(s.delivered),
    converted: toSignificance(s.converted),
    clicked: toSignificance(s.clicked),
  };
}
