import { describe, expect, it } from 'vitest';
import en from '../../i18n/locales/en/alerts.json';
import zh from '../../i18n/locales/zh-CN/alerts.json';
import pen from '../../i18n/locales/en/pipelines.json';
import pzh from '../../i18n/locales/zh-CN/pipelines.json';
import { channelFieldOf, channelToForm, formToChannel } from './channelForm';
import { histogramSeries, intervalText, metricAgg, metricValue, planChart, pooled, thresholdLine } from './chartData';
import { durationMs, formFieldOf, formToRule, queryErrorPosition, ruleToForm } from './ruleForm';
import { formToSilence } from './silenceForm';
import { conditionText, summarizeState } from './state';

const rule = {
  name: 'checkout errors',
  query: 'level:error service:checkout',
  window: '1m',
  every: null,
  aggregation: { p95: { field: 'latency_ms' } },
  group_by: ['host'],
  condition: { op: '>=' as const, threshold: 300 },
  for: '2m',
  kind: 'threshold' as const,
  severity: 'critical' as const,
  channels: ['c1'],
  labels: { team: 'payments' },
  message: '{{rule}}: {{value}}',
  allowed_lateness: null,
  enabled: true,
};

describe('rule form', () => {
  it('round-trips a rule through the form', () => {
    const f = ruleToForm(rule);
    expect(f.aggKind).toBe('p95');
    expect(f.aggField).toBe('latency_ms');
    expect(f.labels).toEqual([{ key: 'team', value: 'payments' }]);
    expect(formToRule(f)).toEqual(rule);
  });
  it('writes count without a field, and no condition for absence', () => {
    const f = { ...ruleToForm(), name: ' x ', aggField: 'ignored', every: ' ', labels: [{ key: ' ', value: 'v' }] };
    const r = formToRule(f);
    expect(r.name).toBe('x');
    expect(r.aggregation).toEqual({ count: {} });
    expect(r.every).toBeNull();
    expect(r.labels).toEqual({});
    expect(formToRule({ ...f, kind: 'absence' }).condition).toBeNull();
  });
  it('puts server errors on form fields', () => {
    expect(formFieldOf('aggregation.avg.field')).toBe('aggField');
    expect(formFieldOf('condition.threshold')).toBe('threshold');
    expect(formFieldOf('group_by[2]')).toBe('group_by');
    expect(formFieldOf('window')).toBe('window');
    expect(formFieldOf('nonsense')).toBeNull();
    expect(queryErrorPosition('query: grouping after a field name is not supported (at character 6)')).toBe(6);
    expect(durationMs('5m')).toBe(300_000);
    expect(durationMs('1q')).toBeNull();
  });
});

describe('chart', () => {
  it('plans epoch-aligned windows over about three hours', () => {
    const now = Date.UTC(2026, 0, 1, 12, 7, 30);
    const p = planChart(300_000, 'count', now);
    expect(p.mode).toBe('histogram');
    expect(p.starts.length).toBe(36);
    expect(p.starts.at(-1)).toBe(Date.UTC(2026, 0, 1, 12, 5));
    expect(p.toMs).toBe(Date.UTC(2026, 0, 1, 12, 10));
    const m = planChart(60_000, 'avg', now);
    expect(m.mode).toBe('per_window');
    expect(m.starts.length).toBe(36);
    expect(intervalText(90_000)).toBe('90s');
    expect(intervalText(7_200_000)).toBe('2h');
  });
  it('reads each aggregation value', () => {
    expect(metricAgg('p99', 'x')).toEqual({ percentiles: { field: 'x', percents: [99] } });
    expect(metricValue('avg', { count: 3, avg: 2.5 })).toBe(2.5);
    expect(metricValue('max', { count: 0, max: null })).toBeNull();
    expect(metricValue('p95', { values: [{ percent: 95, value: 40 }] })).toBe(40);
    expect(metricValue('count_distinct', { value: 7 })).toBe(7);
  });
  it('draws the threshold, not for absence', () => {
    expect(thresholdLine('threshold', '>', 50, 'Threshold')?.data).toEqual([{ yAxis: 50 }]);
    expect(thresholdLine('absence', '>', 50, 'Threshold')).toBeUndefined();
    expect(thresholdLine('threshold', '>', null, 'Threshold')).toBeUndefined();
  });
  it('makes a line per group with other', () => {
    const s = histogramSeries(
      { buckets: [{ key: 1, count: 3 }, { key: 2, count: 1 }], series: [{ key: 'web-1', counts: [2, 1] }], other: [1, 0] },
      'Count',
      'Other',
    );
    expect(s).toEqual([
      { name: 'web-1', points: [[1, 2], [2, 1]] },
      { name: 'Other', points: [[1, 1], [2, 0]] },
    ]);
  });
  it('pools requests in order', async () => {
    let running = 0;
    let peak = 0;
    const out = await pooled(
      [1, 2, 3, 4, 5].map((n) => async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 1));
        running--;
        return n * 2;
      }),
      2,
    );
    expect(out).toEqual([2, 4, 6, 8, 10]);
    expect(peak).toBe(2);
  });
});

describe('state, channels, silences', () => {
  it('sums a rule up by its worst group', () => {
    const g = (state: 'ok' | 'pending' | 'firing') => ({ group: [], state, value: 1, since: null, last_window_end: null });
    expect(summarizeState({ enabled: true }, { groups: [g('ok'), g('firing'), g('pending')], groups_dropped: 0, late_events: 0, open_windows: 1 })).toEqual({
      state: 'firing',
      counts: { ok: 1, pending: 1, firing: 1 },
    });
    expect(summarizeState({ enabled: false }, undefined).state).toBe('disabled');
    expect(conditionText(rule, 'none')).toBe('p95(latency_ms) >= 300');
  });
  it('maps channel configs per type', () => {
    const f = channelToForm({ id: 'i', name: 'n', type: 'webhook', config: { url: 'https://x', secret: '********', headers: { 'X-A': '1' } }, created_at: '', updated_at: '' });
    expect(formToChannel(f)).toEqual({ name: 'n', type: 'webhook', config: { url: 'https://x', secret: '********', headers: { 'X-A': '1' } } });
    expect(formToChannel({ ...f, type: 'email', to: ['a@b.c'] })).toEqual({ name: 'n', type: 'email', config: { to: ['a@b.c'] } });
    expect(formToChannel({ ...f, type: 'slack', secret: '' }).config).toEqual({ url: 'https://x' });
    expect(channelFieldOf('config.to[1]')).toBe('to');
  });
  it('needs a matcher for a silence', () => {
    expect(formToSilence({ labels: [], ends_at: 0, comment: '' })).toBeNull();
    expect(formToSilence({ rule_id: 'r', labels: [{ key: 'team', value: 'x' }], ends_at: 0, comment: ' c ' })).toEqual({
      matchers: { rule_id: 'r', labels: { team: 'x' } },
      ends_at: '1970-01-01T00:00:00.000Z',
      comment: 'c',
    });
  });
});

function keys(o: object, p = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v, `${p}${k}.`) : [`${p}${k}`.replace(/_(one|other)$/, '')]));
}
function leaves(o: object): string[] {
  return Object.values(o).flatMap((v) => (v && typeof v === 'object' ? leaves(v) : [String(v)]));
}

describe('page translations', () => {
  it('have the same keys in English and Chinese, none empty', () => {
    for (const [a, b] of [[en, zh], [pen, pzh]] as const) {
      expect([...new Set(keys(b))].sort()).toEqual([...new Set(keys(a))].sort());
      for (const s of [...leaves(a), ...leaves(b)]) expect(s.trim()).not.toBe('');
    }
  });
});

describe('normalizeRule', () => {
  it('fills what the server leaves out', async () => {
    const { normalizeRule } = await import('./state');
    const r = normalizeRule({ id: 'i', name: 'n', window: '1m', aggregation: { p95: { field: 'x' } } });
    expect(r.group_by).toEqual([]);
    expect(r.labels).toEqual({});
    expect(r.channels).toEqual([]);
    expect(r.aggregation).toEqual({ p95: { field: 'x' } });
  });
});
