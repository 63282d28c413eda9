// Time ranges as the API takes them (README "Times"): RFC 3339, epoch milliseconds, or date
// math (`now`, `now-15m`, `now-1d/d`). The URL keeps what the user chose (a relative range
// stays relative when the link is shared); this module resolves it to instants for display,
// the histogram and zooming, with the same rules as the server (rounding in UTC).

export interface TimeRange {
  from: string;
  to: string;
}

export type Unit = 's' | 'm' | 'h' | 'd' | 'w' | 'M' | 'y';

/** The quick ranges offered by the picker, newest data first. */
export const QUICK_RANGES = ['15m', '1h', '4h', '24h', '7d'] as const;
export type QuickRange = (typeof QUICK_RANGES)[number];

export const DEFAULT_RANGE: TimeRange = { from: 'now-15m', to: 'now' };

const UNIT_MS: Record<Exclude<Unit, 'M' | 'y'>, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

export function quickRange(span: string): TimeRange {
  return { from: `now-${span}`, to: 'now' };
}

function addUnits(t: Date, amount: number, unit: Unit): Date {
  if (unit === 'M' || unit === 'y') {
    const d = new Date(t.getTime());
    const months = unit === 'y' ? amount * 12 : amount;
    d.setUTCMonth(d.getUTCMonth() + months);
    return d;
  }
  return new Date(t.getTime() + amount * UNIT_MS[unit]);
}

function roundDown(t: Date, unit: Unit): Date {
  const d = new Date(t.getTime());
  switch (unit) {
    case 's':
      d.setUTCMilliseconds(0);
      break;
    case 'm':
      d.setUTCSeconds(0, 0);
      break;
    case 'h':
      d.setUTCMinutes(0, 0, 0);
      break;
    case 'd':
      d.setUTCHours(0, 0, 0, 0);
      break;
    case 'w': {
      d.setUTCHours(0, 0, 0, 0);
      const sinceMonday = (d.getUTCDay() + 6) % 7;
      d.setUTCDate(d.getUTCDate() - sinceMonday);
      break;
    }
    case 'M':
      d.setUTCHours(0, 0, 0, 0);
      d.setUTCDate(1);
      break;
    case 'y':
      d.setUTCHours(0, 0, 0, 0);
      d.setUTCMonth(0, 1);
      break;
  }
  return d;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Date math after `now`: any number of `+<n><unit>`, `-<n><unit>`, `/<unit>`, in order. */
function dateMath(rest: string, now: Date): Date | null {
  let t = new Date(now.getTime());
  const step = /^([+-])(\d+)([smhdwMy])|^\/([smhdwMy])/;
  while (rest.length > 0) {
    const m = step.exec(rest);
    if (!m) return null;
    if (m[4]) t = roundDown(t, m[4] as Unit);
    else t = addUnits(t, Number(m[2]) * (m[1] === '-' ? -1 : 1), m[3] as Unit);
    rest = rest.slice(m[0].length);
  }
  return t;
}

/** The instant an expression names at `now`, or null when the API would refuse it. */
export function parseTime(expr: string, now: Date = new Date()): Date | null {
  const s = expr.trim();
  if (s === '') return null;
  if (s.startsWith('now')) return dateMath(s.slice(3), now);
  if (RFC3339.test(s)) {
    const t = new Date(s);
    return Number.isNaN(t.getTime()) ? null : t;
  }
  if (/^-?\d+$/.test(s)) return new Date(Number(s));
  return null;
}

export function isRelative(expr: string): boolean {
  return expr.trim().startsWith('now');
}

export interface ResolvedRange {
  from: Date;
  to: Date;
}

/** Both ends as instants; null when either does not parse. */
export function resolveRange(range: TimeRange, now: Date = new Date()): ResolvedRange | null {
  const from = parseTime(range.from, now);
  const to = parseTime(range.to || 'now', now);
  return from && to ? { from, to } : null;
}

export type RangeProblem = 'bad_from' | 'bad_to' | 'empty';

/** What is wrong with a range the user typed, if anything. */
export function checkRange(range: TimeRange, now: Date = new Date()): RangeProblem | null {
  const from = parseTime(range.from, now);
  if (!from) return 'bad_from';
  const to = parseTime(range.to || 'now', now);
  if (!to) return 'bad_to';
  if (from.getTime() >= to.getTime()) return 'empty';
  return null;
}

/** The quick range a range is (`15m` for `now-15m` → `now`), if it is one. */
export function matchQuick(range: TimeRange): string | undefined {
  if ((range.to || 'now') !== 'now') return undefined;
  const m = /^now-(\d+[smhdwMy])$/.exec(range.from);
  return m ? m[1] : undefined;
}

/** A range between two instants, as RFC 3339 (what dragging on the histogram produces). */
export function absoluteRange(fromMs: number, toMs: number): TimeRange {
  const [a, b] = fromMs <= toMs ? [fromMs, toMs] : [toMs, fromMs];
  // At least one second, so a click without a drag never makes an empty range.
  const end = Math.max(b, a + 1000);
  return { from: new Date(Math.floor(a)).toISOString(), to: new Date(Math.ceil(end)).toISOString() };
}

/** The amount and unit of a span such as `15m`, `24h`, `7d`. */
export function splitSpan(span: string): { amount: number; unit: Unit } | null {
  const m = /^(\d+)([smhdwMy])$/.exec(span);
  return m ? { amount: Number(m[1]), unit: m[2] as Unit } : null;
}

/** The range shifted back by its own length (for "earlier"), as absolute times. */
export function shiftRange(range: TimeRange, direction: -1 | 1, now: Date = new Date()): TimeRange | null {
  const r = resolveRange(range, now);
  if (!r) return null;
  const span = r.to.getTime() - r.from.getTime();
  return absoluteRange(r.from.getTime() + direction * span, r.to.getTime() + direction * span);
}

/** Reads a range from URL parameters, falling back to the default. */
export function rangeFromParams(params: URLSearchParams): TimeRange {
  const from = params.get('from') || DEFAULT_RANGE.from;
  const to = params.get('to') || 'now';
  return { from, to };
}
