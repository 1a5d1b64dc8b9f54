import { CostReportDto, CostRowDto } from './analytics.dto';

const HEADER = [
  'section',
  'key',
  'currency',
  'messages',
  'segments',
  'estimated_cost',
  'actual_cost',
  'actual_messages',
  'estimated_cost_reported',
  'difference',
];

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
function field(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The cost report as one CSV table (CRLF lines), a `section` column naming each part. */
export function costReportCsv(r: CostReportDto): string {
  const sections: [string, CostRowDto[]][] = [
    ['provider', r.by_provider],
    ['message_type', r.by_message_type],
    ['channel', r.by_channel ?? []],
    ...(r.by_tenant ? ([['tenant', r.by_tenant]] as [string, CostRowDto[]][]) : []),
    ['total', r.totals],
  ];
  const lines = [HEADER.join(',')];
  for (const [section, rows] of sections) {
    for (const x of rows) {
      lines.push(
        [
          section,
          x.key,
          x.currency,
          x.messages,
          x.segments,
          x.estimated_cost,
          x.actual_cost,
          x.actual_messages,
          x.estimated_cost_reported,
          x.difference,
        ]
          .map(field)
          .join(','),
      );
    }
  }
  return lines.join('\r\n') + '\r\n';
}
