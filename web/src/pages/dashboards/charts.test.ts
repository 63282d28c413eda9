import { describe, expect, it } from 'vitest';
import { categories, chartOption, shape, singleValue, summary, timeSeries, type ChartStyle, type Labels } from './charts';

const labels: Labels = { count: 'Count', other: 'Other', stat: (s) => `stat:${s}`, percentile: (p) => `p${p}` };
const style: ChartStyle = {
  text: '#000',
  textSecondary: '#666',
  border: '#ccc',
  borderSecondary: '#eee',
  background: '#fff',
  number: (n, compact) => (compact ? `${n}c` : `${n}`),
  time: (ms) => `t${ms}`,
};

const hist = {
  interval_ms: 60_000,
  buckets: [
    { key: 0, key_as_string: '', count: 3 },
    { key: 60_000, key_as_string: '', count: 5 },
  ],
};
const split = { ...hist, series: [{ key: 'checkout', counts: [1, 2] }, { key: 'payments', counts: [2, 0] }], other: [0, 3] };
const terms = { buckets: [{ key: 'info', count: 12 }, { key: 'warn', count: 9 }, { key: 404, count: 2 }], other: 4 };

describe('shaping render results', () => {
  it('a histogram is one series of all matches', () => {
    expect(timeSeries(hist, labels)).toEqual([{ name: 'Count', points: [[0, 3], [60_000, 5]], total: 8 }]);
  });

  it('a split histogram is a series per value, and other when it has any', () => {
    const s = timeSeries(split, labels);
    expect(s.map((x) => [x.name, x.total])).toEqual([['checkout', 3], ['payments', 2], ['Other', 3]]);
    expect(s[1].points).toEqual([[0, 2], [60_000, 0]]);
    expect(timeSeries({ ...split, other: [0, 0] }, labels)).toHaveLength(2);
  });

  it('top values keep their order, numbers become names, the rest is other', () => {
    expect(categories(terms, 'Other')).toEqual([
      { name: 'info', value: 12 },
      { name: 'warn', value: 9 },
      { name: '404', value: 2 },
      { name: 'Other', value: 4 },
    ]);
    expect(categories({ buckets: [], other: 0 }, 'Other')).toEqual([]);
  });

  it('single values: count, the chosen statistic, the percentile', () => {
    expect(singleValue({ value: 42 }, undefined)).toBe(42);
    const stats = { count: 4, min: 1, max: 9, avg: 4.5, sum: 18 };
    expect(singleValue(stats, undefined)).toBe(4.5);
    expect(singleValue(stats, { stat: 'sum' })).toBe(18);
    expect(singleValue({ count: 0, min: null, max: null, avg: null, sum: 0 }, { stat: 'avg' })).toBeNull();
    expect(singleValue({ values: [{ percent: 95, value: 812 }] }, undefined)).toBe(812);
    expect(singleValue({ values: [{ percent: 95, value: null }] }, undefined)).toBeNull();
  });

  it('shapes per widget type, and says when data does not fit the type', () => {
    expect(shape('line', undefined, undefined, hist, labels).kind).toBe('time');
    expect(shape('line', undefined, undefined, terms, labels).kind).toBe('mismatch');
    expect(shape('bar', undefined, undefined, terms, labels).kind).toBe('categories');
    expect(shape('bar', undefined, undefined, hist, labels).kind).toBe('time');
    expect(shape('pie', undefined, undefined, terms, labels)).toEqual({ kind: 'categories', items: categories(terms, 'Other') });
    expect(shape('single_value', undefined, undefined, terms, labels).kind).toBe('mismatch');
    expect(shape('single_value', { count: {} }, undefined, { value: 7 }, labels)).toEqual({ kind: 'value', value: 7 });
  });

  it('tables: top values, every statistic, each percentile', () => {
    expect(shape('table', undefined, undefined, terms, labels)).toEqual({ kind: 'rows', rows: categories(terms, 'Other') });
    const stats = shape('table', { stats: { field: 'x' } }, undefined, { count: 4, min: 1, max: 9, avg: 4.5, sum: 18 }, labels);
    expect(stats).toEqual({
      kind: 'rows',
      rows: [
        { name: 'stat:count', value: 4 },
        { name: 'stat:min', value: 1 },
        { name: 'stat:max', value: 9 },
        { name: 'stat:avg', value: 4.5 },
        { name: 'stat:sum', value: 18 },
      ],
    });
    const p = shape('table', undefined, undefined, { values: [{ percent: 50, value: 10 }, { percent: 99, value: null }] }, labels);
    expect(p).toEqual({ kind: 'rows', rows: [{ name: 'p50', value: 10 }, { name: 'p99', value: null }] });
  });

  it('summarizes what a chart shows as names and numbers', () => {
    expect(summary(shape('line', undefined, undefined, split, labels))).toEqual([
      { name: 'checkout', value: 3 },
      { name: 'payments', value: 2 },
      { name: 'Other', value: 3 },
    ]);
    expect(summary({ kind: 'value', value: 3 })).toEqual([{ name: '', value: 3 }]);
    expect(summary({ kind: 'mismatch' })).toEqual([]);
  });
});

describe('chart options', () => {
  it('line: a time axis, a series per value, a legend when there are several', () => {
    const o = chartOption('line', shape('line', undefined, undefined, split, labels), style) as Record<string, any>;
    expect(o.xAxis.type).toBe('time');
    expect(o.series.map((s: any) => [s.type, s.name])).toEqual([
      ['line', 'checkout'],
      ['line', 'payments'],
      ['line', 'Other'],
    ]);
    expect(o.series[0].data).toEqual([[0, 1], [60_000, 2]]);
    expect(o.legend).toBeDefined();
    expect(o.xAxis.axisLabel.formatter(60_000)).toBe('t60000');
    expect(o.yAxis.axisLabel.formatter(1500)).toBe('1500c');
    const single = chartOption('line', shape('line', undefined, undefined, hist, labels), style) as Record<string, any>;
    expect(single.legend).toBeUndefined();
  });

  it('bar: categories with their counts as labels; a histogram stacked when asked', () => {
    const o = chartOption('bar', shape('bar', undefined, undefined, terms, labels), style) as Record<string, any>;
    expect(o.xAxis).toMatchObject({ type: 'category', data: ['info', 'warn', '404', 'Other'] });
    expect(o.series[0].data).toEqual([12, 9, 2, 4]);
    expect(o.series[0].label.formatter({ value: 12 })).toBe('12');
    const stacked = chartOption('bar', shape('bar', undefined, undefined, split, labels), style, { stack: true }) as Record<string, any>;
    expect(stacked.series.every((s: any) => s.type === 'bar' && s.stack === 'all')).toBe(true);
    const side = chartOption('bar', shape('bar', undefined, undefined, split, labels), style) as Record<string, any>;
    expect(side.series[0].stack).toBeUndefined();
  });

  it('pie: one slice per value with its count', () => {
    const o = chartOption('pie', shape('pie', undefined, undefined, terms, labels), style, { unit: 'req' }) as Record<string, any>;
    expect(o.series[0].type).toBe('pie');
    expect(o.series[0].data).toEqual(categories(terms, 'Other'));
    expect(o.series[0].label.formatter({ name: 'info', value: 12 })).toBe('12');
    expect(o.legend.formatter('warn')).toBe('warn: 9');
    expect(o.legend.formatter('Other')).toBe('Other: 4');
    expect(o.tooltip.valueFormatter(12)).toBe('12 req');
  });

  it('no option for the types drawn without ECharts, nor for data that does not fit', () => {
    expect(chartOption('single_value', { kind: 'value', value: 1 }, style)).toBeNull();
    expect(chartOption('table', { kind: 'rows', rows: [] }, style)).toBeNull();
    expect(chartOption('pie', { kind: 'mismatch' }, style)).toBeNull();
  });
});
