/**
 * Money is kept as integer micro-units (millionths of the currency unit) from the provider's
 * string to the database's `numeric` and back, so sums are exact: never add floats. A JSON
 * number is made only at the edge, for presentation (`toAmount`). Safe up to 9·10⁹ units.
 */
export type Micros = number;

export const MICROS_PER_UNIT = 1_000_000;

const DECIMAL = /^([+-])?(\d+)(?:\.(\d*))?$/;

/**
 * Parses a decimal amount exactly ("-0.00750", "12", 0.0075) into micro-units, rounding half away
 * from zero past the sixth decimal. Null for anything that is not a finite plain decimal or is
 * beyond ±9·10⁹ (a provider's garbage must not become a cost).
 */
export function parseMoney(value: string | number | null | undefined): Micros | null {
  if (value === null || value === undefined) return null;
  const text = typeof value === 'number' ? numberToPlain(value) : value.trim();
  if (text === null) return null;
  const m = DECIMAL.exec(text);
  if (!m) return null;
  const [, sign, whole, frac = ''] = m;
  if (whole.length > 10) return null;
  let micros = Number(whole) * MICROS_PER_UNIT + Number((frac + '000000').slice(0, 6));
  if (frac.length > 6 && Number(frac[6]) >= 5) micros += 1;
  if (micros > 9e15) return null;
  return sign === '-' ? -micros : micros;
}

function numberToPlain(n: number): string | null {
  if (!Number.isFinite(n)) return null;
  // toFixed(7) keeps one digit past micros for rounding and never uses exponent notation below 1e21.
  return Math.abs(n) >= 1e21 ? null : n.toFixed(7);
}

/** Micro-units as a plain decimal string for `numeric` columns and CSV ("0.0075", "-1.5", "0"). */
export function formatMoney(micros: Micros): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(Math.round(micros));
  const whole = Math.floor(abs / MICROS_PER_UNIT);
  const frac = String(abs % MICROS_PER_UNIT)
    .padStart(6, '0')
    .replace(/0+$/, '');
  return `${sign}${whole}${frac ? `.${frac}` : ''}`;
}

/** For presentation only: the amount as a JSON number (0.0075). */
export function toAmount(micros: Micros): number {
  return Number(formatMoney(micros));
}

/** Exact sum; null when any part is unknown. */
export function sumMicros(parts: readonly (Micros | null)[]): Micros | null {
  let total = 0;
  for (const p of parts) {
    if (p === null) return null;
    total += p;
  }
  return total;
}
