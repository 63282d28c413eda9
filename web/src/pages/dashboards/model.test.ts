import { describe, expect, it } from 'vitest';
import type { Dashboard, Widget } from './api';
import {
  applyLayout,
  dashboardBody,
  defaultForm,
  exportFileName,
  formFieldOf,
  formToWidget,
  ImportError,
  newWidgetId,
  nextPosition,
  parseImport,
  parsePercents,
  refreshMs,
  substitute,
  toLayout,
  variablesFromParams,
  widgetToForm,
} from './model';
import { applySettings, settingsForm } from './settingsForm';

const pos = { x: 0, y: 0, w: 12, h: 7 };

describe('widget editor form', () => {
  it('line: a histogram split by a field round-trips', () => {
    const w: Widget = { id: 'w1', type: 'line', title: 'By service', query: 'level:error', aggregation: { date_histogram: { interval: '1m', split_by: 'service', size: 5 } }, position: pos };
    const f = widgetToForm(w);
    expect(f).toMatchObject({ type: 'line', agg: 'date_histogram', interval: '1m', splitBy: 'service', size: 5, query: 'level:error' });
    expect(formToWidget(f, pos, 'w1')).toEqual(w);
  });

  it('line: without a split, no size is sent and an empty interval is auto', () => {
    const f = { ...defaultForm('line'), title: ' Events ', interval: ' ', size: 7 };
    expect(formToWidget(f, pos).aggregation).toEqual({ date_histogram: { interval: 'auto' } });
    expect(formToWidget(f, pos).title).toBe('Events');
    expect(formToWidget(f, pos).id).toBeUndefined();
  });

  it('bar: top values, or a stacked histogram', () => {
    const terms: Widget = { id: 'w2', type: 'bar', title: 'Levels', query: '', aggregation: { terms: { field: 'level', size: 3 } }, position: pos };
    expect(formToWidget(widgetToForm(terms), pos, 'w2')).toEqual(terms);
    const hist: Widget = { id: 'w3', type: 'bar', title: 'Stacked', query: '', aggregation: { date_histogram: { interval: 'auto', split_by: 'level' } }, options: { stack: true }, position: pos };
    const f = widgetToForm(hist);
    expect(f.stack).toBe(true);
    expect(formToWidget(f, pos, 'w3')).toEqual(hist);
    // Stacking means nothing for top values: not written.
    expect(formToWidget({ ...f, agg: 'terms', field: 'level' }, pos).options).toBeUndefined();
  });

  it('pie: top values of a field', () => {
    const f = { ...defaultForm('pie'), title: 'Hosts', field: ' host ', size: null };
    expect(f.agg).toBe('terms');
    expect(formToWidget(f, pos).aggregation).toEqual({ terms: { field: 'host' } });
  });

  it('single value: count, a statistic, one percentile, distinct values', () => {
    const base = { ...defaultForm('single_value'), title: 'Latency', field: 'latency_ms', unit: 'ms' };
    expect(base.agg).toBe('count');
    expect(formToWidget(base, pos).aggregation).toEqual({ count: {} });
    const avg = formToWidget({ ...base, agg: 'stats', stat: 'max' }, pos);
    expect(avg.aggregation).toEqual({ stats: { field: 'latency_ms' } });
    expect(avg.options).toEqual({ unit: 'ms', stat: 'max' });
    expect(widgetToForm(avg)).toMatchObject({ agg: 'stats', stat: 'max', unit: 'ms', field: 'latency_ms' });
    const p99 = formToWidget({ ...base, agg: 'percentiles', percent: 99 }, pos);
    expect(p99.aggregation).toEqual({ percentiles: { field: 'latency_ms', percents: [99] } });
    expect(widgetToForm(p99).percent).toBe(99);
    expect(formToWidget({ ...base, agg: 'cardinality' }, pos).aggregation).toEqual({ cardinality: { field: 'latency_ms' } });
  });

  it('table: top values, statistics or a list of percentiles', () => {
    const f = { ...defaultForm('table'), title: 'Levels', field: 'level', size: 10 };
    expect(formToWidget(f, pos).aggregation).toEqual({ terms: { field: 'level', size: 10 } });
    const p = formToWidget({ ...f, agg: 'percentiles', percents: '50,90 99.9 x 120' }, pos);
    expect(p.aggregation).toEqual({ percentiles: { field: 'level', percents: [50, 90, 99.9] } });
    expect(widgetToForm(p).percents).toBe('50, 90, 99.9');
  });

  it('an aggregation the type does not draw falls back to its first', () => {
    const w: Widget = { type: 'pie', title: 'x', query: '', aggregation: { count: {} }, position: pos };
    expect(widgetToForm(w).agg).toBe('terms');
  });

  it('puts server errors on form controls', () => {
    expect(formFieldOf('widgets[3].query')).toBe('query');
    expect(formFieldOf('widgets[0].aggregation')).toBe('field');
    expect(formFieldOf('name')).toBeNull();
    expect(formFieldOf(undefined)).toBeNull();
    expect(parsePercents('')).toEqual([]);
  });
});

describe('layout', () => {
  const widgets: Widget[] = [
    { id: 'w1', type: 'line', title: 'a', query: '', aggregation: { count: {} }, position: { x: 0, y: 0, w: 12, h: 7 } },
    { id: 'w2', type: 'single_value', title: 'b', query: '', aggregation: { count: {} }, position: { x: 12, y: 0, w: 6, h: 4 } },
  ];

  it('maps positions to grid items and back', () => {
    const layout = toLayout(widgets);
    expect(layout.map(({ i, x, y, w, h }) => ({ i, x, y, w, h }))).toEqual([
      { i: 'w1', x: 0, y: 0, w: 12, h: 7 },
      { i: 'w2', x: 12, y: 0, w: 6, h: 4 },
    ]);
    expect(applyLayout(widgets, layout)).toBe(widgets);
  });

  it('takes the moved and resized items only', () => {
    const moved = applyLayout(widgets, [
      { i: 'w1', x: 0, y: 4, w: 24, h: 9 },
      { i: 'w2', x: 0, y: 0, w: 6, h: 4 },
    ]);
    expect(moved).not.toBe(widgets);
    expect(moved.map((w) => w.position)).toEqual([
      { x: 0, y: 4, w: 24, h: 9 },
      { x: 0, y: 0, w: 6, h: 4 },
    ]);
    expect(moved[0].title).toBe('a');
    expect(widgets[0].position.y).toBe(0);
  });

  it('places a new widget in the first free place, else below the others, with a fresh id', () => {
    // Beside the single value (x 18 to 24, from the top), where a 6 × 4 fits.
    expect(nextPosition(widgets, 'single_value')).toEqual({ x: 18, y: 0, w: 6, h: 4 });
    // An 8 wide pie fits under the single value, right of the line.
    expect(nextPosition(widgets, 'pie')).toEqual({ x: 12, y: 4, w: 8, h: 7 });
    // A 12 wide line fits nowhere beside them: first place below the line, at the left.
    expect(nextPosition([...widgets, { ...widgets[1], id: 'w3', position: { x: 12, y: 4, w: 12, h: 3 } }], 'line')).toEqual({ x: 0, y: 7, w: 12, h: 7 });
    expect(nextPosition([{ ...widgets[0], position: { x: 0, y: 0, w: 24, h: 5 } }], 'bar')).toEqual({ x: 0, y: 5, w: 12, h: 7 });
    expect(nextPosition([], 'single_value')).toEqual({ x: 0, y: 0, w: 6, h: 4 });
    expect(newWidgetId(widgets)).toBe('w3');
    expect(newWidgetId([{ ...widgets[0], id: 'w2' }, { ...widgets[1], id: 'w3' }])).toBe('w4');
  });
});

describe('documents', () => {
  const doc: Dashboard = { id: 'd1', owner: 'user:1', created_at: 't', updated_at: 't', name: 'Ops', widgets: [], shared: true };

  it('a PUT body leaves out what the server adds', () => {
    expect(dashboardBody(doc)).toEqual({ name: 'Ops', widgets: [], shared: true });
  });

  it('imports an export, or a bare dashboard', () => {
    expect(parseImport(JSON.stringify({ nexuslog_dashboard: 1, dashboard: { name: 'A', widgets: [] } }))).toEqual({ nexuslog_dashboard: 1, dashboard: { name: 'A', widgets: [] } });
    expect(parseImport(JSON.stringify(doc))).toEqual({ nexuslog_dashboard: 1, dashboard: { name: 'Ops', widgets: [], shared: true } });
  });

  it('says what is wrong with an import', () => {
    const problem = (text: string) => {
      try {
        parseImport(text);
        return null;
      } catch (e) {
        return e instanceof ImportError ? e.problem : 'other';
      }
    };
    expect(problem('{nope')).toBe('not_json');
    expect(problem('[1]')).toBe('not_dashboard');
    expect(problem('{"title": "x"}')).toBe('not_dashboard');
    expect(problem('{"name": "x", "widgets": {}}')).toBe('not_dashboard');
  });

  it('names export files after the dashboard', () => {
    expect(exportFileName('Ops / checkout')).toBe('Ops-checkout.json');
    expect(exportFileName('服务 总览')).toBe('服务-总览.json');
    expect(exportFileName(' / ')).toBe('dashboard.json');
  });
});

describe('variables', () => {
  const vars = [
    { name: 'service', field: 'service' },
    { name: 'service_name', field: 'x', default: 'a"b' },
  ];

  it('substitutes quoted values, longest names first, `*` for any', () => {
    expect(substitute('service:$service x:$service_name', { service: 'api gw' }, vars)).toBe('service:"api gw" x:"a\\"b"');
    expect(substitute('service:$service', {}, vars)).toBe('service:*');
    expect(substitute('service:$service OR s:$service', { service: '*' }, vars)).toBe('service:* OR s:*');
    // An explicit "any" wins over the default, as on the server.
    expect(substitute('x:$service_name', { service_name: '*' }, vars)).toBe('x:*');
    expect(substitute('path:$service', { service: 'C:\\x' }, vars)).toBe('path:"C:\\\\x"');
  });

  it('reads chosen values from the URL', () => {
    expect(variablesFromParams(new URLSearchParams('from=now-1h&var-service=checkout&var-env=*'))).toEqual({ service: 'checkout', env: '*' });
  });

  it('reads refresh intervals', () => {
    expect(refreshMs('30s')).toBe(30_000);
    expect(refreshMs('5m')).toBe(300_000);
    expect(refreshMs('')).toBeNull();
    expect(refreshMs('0s')).toBeNull();
    expect(refreshMs('soon')).toBeNull();
  });
});

describe('dashboard settings form', () => {
  const doc: Dashboard = {
    id: 'd1',
    owner: 'user:1',
    created_at: 't',
    updated_at: 't',
    name: 'Ops',
    description: 'old',
    refresh: '1m',
    time_range: { from: 'now-1h' },
    variables: [{ name: 'service', field: 'service', size: 5 }],
    widgets: [],
    shared: true,
  };

  it('round-trips the variables, fills blanks', () => {
    const f = settingsForm(doc);
    expect(f).toMatchObject({ name: 'Ops', description: 'old', refresh: '1m', shared: true, useRange: false });
    expect(f.variables).toEqual([{ name: 'service', field: 'service', size: 5, default: '' }]);
    expect(applySettings(doc, f, { from: 'now-5m', to: 'now' })).toEqual(doc);
  });

  it('drops what is cleared, skips blank variables, takes the current range when asked', () => {
    const f = {
      ...settingsForm(doc),
      name: ' New ',
      description: ' ',
      refresh: '',
      shared: false,
      useRange: true,
      variables: [
        { name: ' env ', field: ' env ', size: null, default: ' prod ' },
        { name: '', field: '', size: null, default: '' },
      ],
    };
    const next = applySettings(doc, f, { from: '2026-01-01T00:00:00Z', to: '' });
    expect(next.name).toBe('New');
    expect(next.shared).toBe(false);
    expect('description' in next).toBe(false);
    expect('refresh' in next).toBe(false);
    expect(next.time_range).toEqual({ from: '2026-01-01T00:00:00Z', to: 'now' });
    expect(next.variables).toEqual([{ name: 'env', field: 'env', default: 'prod' }]);
    expect(doc.description).toBe('old');
  });
});
