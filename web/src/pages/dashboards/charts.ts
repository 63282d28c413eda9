// A render answer's data → what a widget draws: one shaping per widget type, and the ECharts
// option for the chart types. Pure, so tested without a browser.

import type { HistogramResult, TermsResult } from '../../api';
import type { AggResult, AggSpec, PercentilesResult, StatsResult, ValueResult, WidgetOptions, WidgetType } from './api';
import { aggKindOf, type Stat } from './model';

export interface Labels {
  count: string;
  other: string;
  stat: (s: Stat) => string;
  percentile: (p: number) => string;
}

export interface TimeSeries {
  name: string;
  /** [bucket start (epoch ms), count]. */
  points: [number, number][];
  total: number;
}

export type Shaped =
  | { kind: 'time'; series: TimeSeries[]; intervalMs: number }
  | { kind: 'categories'; items: { name: string; value: number }[] }
  | { kind: 'value'; value: number | null }
  | { kind: 'rows'; rows: { name: string; value: number | null }[] }
  | { kind: 'mismatch' };

const isHistogram = (d: AggResult): d is HistogramResult => 'interval_ms' in d;
const isTerms = (d: AggResult): d is TermsResult => 'buckets' in d && !('interval_ms' in d);
const isStats = (d: AggResult): d is StatsResult => 'sum' in d;
const isPercentiles = (d: AggResult): d is PercentilesResult => 'values' in d && Array.isArray((d as PercentilesResult).values);
const isValue = (d: AggResult): d is ValueResult => 'value' in d;

const sum = (xs: number[]) => xs.reduce((n, x) => n + x, 0);

/** A histogram's series: one per split value plus `other` when it has any, else one of all matches. */
export function timeSeries(h: HistogramResult, labels: Pick<Labels, 'count' | 'other'>): TimeSeries[] {
  const keys = h.buckets.map((b) => b.key);
  const series = (name: string, counts: number[]): TimeSeries => ({
    name,
    points: keys.map((k, i) => [k, counts[i] ?? 0]),
    total: sum(counts),
  });
  if (h.series && h.series.length > 0) {
    const out = h.series.map((s) => series(String(s.key), s.counts));
    if (h.other && h.other.some((c) => c > 0)) out.push(series(labels.other, h.other));
    return out;
  }
  return [series(labels.count, h.buckets.map((b) => b.count))];
}

/** Top values as named amounts, with the rest as `other` when there is any. */
export function categories(t: TermsResult, otherLabel: string): { name: string; value: number }[] {
  const items = t.buckets.map((b) => ({ name: String(b.key), value: b.count }));
  if (t.other > 0) items.push({ name: otherLabel, value: t.other });
  return items;
}

/** The one number a single-value widget shows. */
export function singleValue(data: AggResult, options: WidgetOptions | undefined): number | null {
  if (isStats(data)) return data[options?.stat ?? 'avg'] ?? null;
  if (isPercentiles(data)) return data.values[0]?.value ?? null;
  if (isValue(data)) return data.value;
  return null;
}

/** Shapes one widget's data for its type; `mismatch` when the data is not what the type draws. */
export function shape(type: WidgetType, aggregation: AggSpec | undefined, options: WidgetOptions | undefined, data: AggResult, labels: Labels): Shaped {
  switch (type) {
    case 'line':
      return isHistogram(data) ? { kind: 'time', series: timeSeries(data, labels), intervalMs: data.interval_ms } : { kind: 'mismatch' };
    case 'bar':
      if (isHistogram(data)) return { kind: 'time', series: timeSeries(data, labels), intervalMs: data.interval_ms };
      return isTerms(data) ? { kind: 'categories', items: categories(data, labels.other) } : { kind: 'mismatch' };
    case 'pie':
      return isTerms(data) ? { kind: 'categories', items: categories(data, labels.other) } : { kind: 'mismatch' };
    case 'single_value':
      return isHistogram(data) || isTerms(data) ? { kind: 'mismatch' } : { kind: 'value', value: singleValue(data, options) };
    case 'table': {
      if (isTerms(data)) return { kind: 'rows', rows: categories(data, labels.other) };
      if (isStats(data)) {
        const stats: Stat[] = ['count', 'min', 'max', 'avg', 'sum'];
        return { kind: 'rows', rows: stats.map((s) => ({ name: labels.stat(s), value: data[s] })) };
      }
      if (isPercentiles(data)) return { kind: 'rows', rows: data.values.map((v) => ({ name: labels.percentile(v.percent), value: v.value })) };
      if (isValue(data)) return { kind: 'rows', rows: [{ name: aggregation ? aggKindOf(aggregation) : labels.count, value: data.value }] };
      return { kind: 'mismatch' };
    }
  }
}

/** What a chart shows as name → number: the accessible summary beside the canvas. */
export function summary(s: Shaped): { name: string; value: number | null }[] {
  switch (s.kind) {
    case 'time':
      return s.series.map((x) => ({ name: x.name, value: x.total }));
    case 'categories':
      return s.items;
    case 'rows':
      return s.rows;
    case 'value':
      return [{ name: '', value: s.value }];
    case 'mismatch':
      return [];
  }
}

export interface ChartStyle {
  text: string;
  textSecondary: string;
  border: string;
  borderSecondary: string;
  background: string;
  number: (n: number, compact?: boolean) => string;
  time: (ms: number) => string;
}

/** The ECharts option of a line, bar or pie widget; null for the types drawn without ECharts. */
export function chartOption(type: WidgetType, s: Shaped, style: ChartStyle, options?: WidgetOptions): Record<string, unknown> | null {
  const unit = options?.unit ? ` ${options.unit}` : '';
  const tooltip = {
    backgroundColor: style.background,
    borderColor: style.border,
    textStyle: { color: style.text, fontSize: 12 },
    valueFormatter: (v: unknown) => (typeof v === 'number' ? `${style.number(v)}${unit}` : '–'),
  };
  const axisLabel = { color: style.textSecondary, fontSize: 11 };
  const many = (n: number) => (n > 1 ? { type: 'scroll', top: 0, textStyle: { color: style.textSecondary } } : undefined);
  if ((type === 'line' || type === 'bar') && s.kind === 'time') {
    return {
      animation: false,
      grid: { left: 8, right: 16, top: s.series.length > 1 ? 32 : 12, bottom: 8, containLabel: true },
      legend: many(s.series.length),
      tooltip: { ...tooltip, trigger: 'axis' },
      xAxis: { type: 'time', axisLabel: { ...axisLabel, hideOverlap: true, formatter: (v: number) => style.time(v) }, axisLine: { lineStyle: { color: style.border } } },
      yAxis: { type: 'value', minInterval: 1, axisLabel: { ...axisLabel, formatter: (v: number) => style.number(v, true) }, splitLine: { lineStyle: { color: style.borderSecondary } } },
      series: s.series.map((x) => ({
        type,
        name: x.name,
        data: x.points,
        showSymbol: x.points.length <= 2,
        ...(type === 'bar' && options?.stack ? { stack: 'all' } : {}),
      })),
    };
  }
  if (type === 'bar' && s.kind === 'categories') {
    return {
      animation: false,
      grid: { left: 8, right: 16, top: 12, bottom: 8, containLabel: true },
      tooltip: { ...tooltip, trigger: 'axis' },
      xAxis: { type: 'category', data: s.items.map((i) => i.name), axisLabel: { ...axisLabel, hideOverlap: true }, axisLine: { lineStyle: { color: style.border } } },
      yAxis: { type: 'value', minInterval: 1, axisLabel: { ...axisLabel, formatter: (v: number) => style.number(v, true) }, splitLine: { lineStyle: { color: style.borderSecondary } } },
      series: [{ type: 'bar', data: s.items.map((i) => i.value), label: { show: true, position: 'top', color: style.textSecondary, formatter: (p: { value: number }) => style.number(p.value) } }],
    };
  }
  if (type === 'pie' && s.kind === 'categories') {
    const values = new Map(s.items.map((i) => [i.name, i.value]));
    return {
      animation: false,
      legend: {
        type: 'scroll',
        orient: 'vertical',
        right: 0,
        top: 'middle',
        textStyle: { color: style.textSecondary },
        formatter: (name: string) => `${name}: ${style.number(values.get(name) ?? 0)}`,
      },
      tooltip: { ...tooltip, trigger: 'item' },
      series: [
        {
          type: 'pie',
          radius: ['35%', '70%'],
          center: ['35%', '50%'],
          data: s.items,
          label: { show: true, position: 'inside', color: '#fff', formatter: (p: { value: number }) => style.number(p.value) },
        },
      ],
    };
  }
  return null;
}
