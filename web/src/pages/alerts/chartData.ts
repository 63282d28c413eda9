// The chart of a rule's aggregation while it is edited: which requests, and the series and the
// threshold line drawn from their answers. The aggregate API's date_histogram counts only, so
// a count rule is one histogram request (split by its group field when it has one), and any
// other aggregation is one request per window (the most recent MAX_METRIC_BUCKETS windows).

import type { AggKind, Op, RuleKind } from './api';

export const MAX_COUNT_BUCKETS = 2000;
export const MAX_METRIC_BUCKETS = 36;
const HOUR = 3_600_000;

export interface ChartPlan {
  fromMs: number;
  toMs: number;
  intervalMs: number;
  /** Start of every bucket. */
  starts: number[];
  mode: 'histogram' | 'per_window';
}

/** Windows aligned to the epoch, the last one containing `nowMs`; about 3 hours of them. */
export function planChart(windowMs: number, aggKind: AggKind, nowMs: number, hours = 3): ChartPlan {
  const mode = aggKind === 'count' ? 'histogram' : 'per_window';
  const max = mode === 'histogram' ? MAX_COUNT_BUCKETS : MAX_METRIC_BUCKETS;
  const wanted = Math.max(1, Math.ceil((hours * HOUR) / windowMs));
  const n = Math.min(max, Math.max(mode === 'histogram' ? 12 : 1, wanted));
  const last = Math.floor(nowMs / windowMs) * windowMs;
  const starts = Array.from({ length: n }, (_, i) => last - (n - 1 - i) * windowMs);
  return { fromMs: starts[0], toMs: last + windowMs, intervalMs: windowMs, starts, mode };
}

/** A window length as the aggregate API's interval (`90s`, `5m`, `2h`, `1d`). */
export function intervalText(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', HOUR], ['m', 60_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.max(1, Math.round(ms / 1000))}s`;
}

/** The aggregation that computes a rule's value over one window. */
export function metricAgg(kind: AggKind, field: string): Record<string, unknown> {
  switch (kind) {
    case 'count':
      return { count: {} };
    case 'avg':
    case 'min':
    case 'max':
    case 'sum':
      return { stats: { field } };
    case 'p95':
      return { percentiles: { field, percents: [95] } };
    case 'p99':
      return { percentiles: { field, percents: [99] } };
    case 'count_distinct':
      return { cardinality: { field } };
  }
}

/** The rule's value from that aggregation's answer (null: no value in the window). */
export function metricValue(kind: AggKind, answer: unknown): number | null {
  const a = (answer ?? {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  switch (kind) {
    case 'count':
    case 'count_distinct':
      return num(a.value);
    case 'avg':
    case 'min':
    case 'max':
    case 'sum':
      return a.count === 0 ? null : num(a[kind]);
    case 'p95':
    case 'p99': {
      const values = (a.values as { percent: number; value: number | null }[] | undefined) ?? [];
      return num(values[0]?.value);
    }
  }
}

export interface ChartSeries {
  name: string;
  points: [number, number | null][];
}

/** The histogram answer as one line per group (or one line, "count"). */
export function histogramSeries(
  h: { buckets: { key: number; count: number }[]; series?: { key: string; counts: number[] }[]; other?: number[] },
  totalName: string,
  otherName: string,
): ChartSeries[] {
  if (!h.series) return [{ name: totalName, points: h.buckets.map((b) => [b.key, b.count]) }];
  const out: ChartSeries[] = h.series.map((s) => ({ name: s.key, points: h.buckets.map((b, i) => [b.key, s.counts[i] ?? 0]) }));
  if (h.other && h.other.some((c) => c > 0)) out.push({ name: otherName, points: h.buckets.map((b, i) => [b.key, h.other![i] ?? 0]) });
  return out;
}

/** The threshold as an ECharts markLine (none for an absence rule or without a number). */
export function thresholdLine(kind: RuleKind, op: Op, threshold: number | null | undefined, label: string) {
  if (kind === 'absence' || threshold === null || threshold === undefined || !Number.isFinite(threshold)) return undefined;
  return {
    symbol: 'none',
    silent: true,
    lineStyle: { type: 'dashed' as const, color: '#ff4d4f', width: 1.5 },
    label: { formatter: `${label} ${op} ${threshold}`, position: 'insideEndTop' as const, color: '#ff4d4f' },
    data: [{ yAxis: threshold }],
  };
}

/** Whether a value meets the condition (points that would fire are marked). */
export function meets(op: Op, value: number, threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
  }
}

/** Runs tasks with at most `limit` at a time, keeping their order. */
export async function pooled<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return out;
}
