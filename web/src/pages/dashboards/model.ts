// Pure mappings between the dashboard API's documents and what the page edits: the widget
// editor's form, the grid's layout, variables and their substitution, import/export.

import type { LayoutItem } from 'react-grid-layout';
import type { AggSpec, Dashboard, DashboardBody, Export, Position, Variable, Widget, WidgetOptions, WidgetType } from './api';

/** Columns of the grid (the API accepts positions within 48). */
export const GRID_COLS = 24;
export const ROW_HEIGHT = 36;

export type AggKind = 'count' | 'date_histogram' | 'terms' | 'stats' | 'percentiles' | 'cardinality';
export type Stat = NonNullable<WidgetOptions['stat']>;
export const STATS: Stat[] = ['count', 'avg', 'min', 'max', 'sum'];

/** The aggregations each widget type draws. */
export const AGGS_FOR: Record<WidgetType, AggKind[]> = {
  line: ['date_histogram'],
  bar: ['terms', 'date_histogram'],
  pie: ['terms'],
  single_value: ['count', 'stats', 'percentiles', 'cardinality'],
  table: ['terms', 'stats', 'percentiles'],
};

/** Aggregations that need a field. */
export const NEEDS_FIELD: AggKind[] = ['terms', 'stats', 'percentiles', 'cardinality'];

export const DEFAULT_SIZE: Record<WidgetType, Pick<Position, 'w' | 'h'>> = {
  line: { w: 12, h: 7 },
  bar: { w: 12, h: 7 },
  pie: { w: 8, h: 7 },
  single_value: { w: 6, h: 4 },
  table: { w: 8, h: 7 },
};

/** The widget editor's form: flat, one field per control. */
export interface WidgetForm {
  type: WidgetType;
  title: string;
  query: string;
  agg: AggKind;
  /** terms, stats, percentiles, cardinality. */
  field: string;
  /** date_histogram: `auto` or `1m`, `1h`, … */
  interval: string;
  /** date_histogram: one series per top value of this field. */
  splitBy: string;
  /** terms: how many values; date_histogram with splitBy: how many series. */
  size: number | null;
  /** single value from stats. */
  stat: Stat;
  /** single value from percentiles. */
  percent: number | null;
  /** table of percentiles, e.g. `50, 95, 99`. */
  percents: string;
  unit: string;
  stack: boolean;
}

export function defaultForm(type: WidgetType = 'line'): WidgetForm {
  return {
    type,
    title: '',
    query: '',
    agg: AGGS_FOR[type][0],
    field: '',
    interval: 'auto',
    splitBy: '',
    size: null,
    stat: 'avg',
    percent: 95,
    percents: '50, 95, 99',
    unit: '',
    stack: false,
  };
}

/** `50, 95,99.9` → [50, 95, 99.9]; anything that is not a percentage is left out. */
export function parsePercents(text: string): number[] {
  return text
    .split(/[\s,;]+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isFinite(n) && n >= 0 && n <= 100);
}

export function aggKindOf(spec: AggSpec): AggKind {
  return Object.keys(spec)[0] as AggKind;
}

/** A widget as the editor's form; a new one of `type` without a widget. */
export function widgetToForm(w?: Widget, type: WidgetType = 'line'): WidgetForm {
  if (!w) return defaultForm(type);
  const f: WidgetForm = { ...defaultForm(w.type), title: w.title, query: w.query ?? '', unit: w.options?.unit ?? '', stack: !!w.options?.stack };
  const spec = w.aggregation as Record<string, Record<string, unknown> | undefined>;
  const agg = aggKindOf(w.aggregation);
  f.agg = AGGS_FOR[w.type].includes(agg) ? agg : AGGS_FOR[w.type][0];
  const body = spec[agg] ?? {};
  if (typeof body.field === 'string') f.field = body.field;
  if (agg === 'date_histogram') {
    f.interval = typeof body.interval === 'string' ? body.interval : 'auto';
    f.splitBy = typeof body.split_by === 'string' ? body.split_by : '';
  }
  if (typeof body.size === 'number') f.size = body.size;
  if (agg === 'stats') f.stat = w.options?.stat ?? 'avg';
  if (agg === 'percentiles') {
    const percents = Array.isArray(body.percents) ? (body.percents as number[]) : [50, 95, 99];
    if (w.type === 'single_value') f.percent = percents[0] ?? 95;
    else f.percents = percents.join(', ');
  }
  return f;
}

/** The aggregation a form describes, in the aggregate API's format. */
export function formToAggregation(f: WidgetForm): AggSpec {
  const field = f.field.trim();
  const size = typeof f.size === 'number' && f.size > 0 ? { size: f.size } : {};
  switch (f.agg) {
    case 'count':
      return { count: {} };
    case 'date_histogram': {
      const split = f.splitBy.trim();
      return { date_histogram: { interval: f.interval.trim() || 'auto', ...(split ? { split_by: split, ...size } : {}) } };
    }
    case 'terms':
      return { terms: { field, ...size } };
    case 'stats':
      return { stats: { field } };
    case 'percentiles':
      return { percentiles: { field, percents: f.type === 'single_value' ? [f.percent ?? 95] : parsePercents(f.percents) } };
    case 'cardinality':
      return { cardinality: { field } };
  }
}

/** The widget a form describes, at `position` (kept when editing, so the grid does not move). */
export function formToWidget(f: WidgetForm, position: Position, id?: string): Widget {
  const options: WidgetOptions = {};
  if (f.unit.trim()) options.unit = f.unit.trim();
  if (f.agg === 'stats' && f.type === 'single_value') options.stat = f.stat;
  if (f.type === 'bar' && f.agg === 'date_histogram' && f.stack) options.stack = true;
  const w: Widget = {
    type: f.type,
    title: f.title.trim(),
    query: f.query.trim(),
    aggregation: formToAggregation(f),
    position: { ...position },
  };
  if (id) w.id = id;
  if (Object.keys(options).length > 0) w.options = options;
  return w;
}

/** The server's `widgets[3].aggregation` → the form control it concerns. */
export function formFieldOf(serverField: string | undefined): keyof WidgetForm | null {
  if (!serverField) return null;
  const m = /^widgets\[\d+\]\.(\w+)/.exec(serverField);
  const what = m ? m[1] : serverField;
  if (what === 'query') return 'query';
  if (what === 'type') return 'type';
  if (what === 'title') return 'title';
  if (what === 'aggregation') return 'field';
  return null;
}

// ---------------------------------------------------------------- the grid

/** The grid's layout from the widgets' positions. */
export function toLayout(widgets: Widget[]): LayoutItem[] {
  return widgets.map((w, i) => ({ i: w.id ?? `new${i}`, x: w.position.x, y: w.position.y, w: w.position.w, h: w.position.h, minW: 2, minH: 2 }));
}

/** The widgets with the positions of `layout`; the same array when nothing moved. */
export function applyLayout(widgets: Widget[], layout: readonly LayoutItem[]): Widget[] {
  const byId = new Map(layout.map((l) => [l.i, l]));
  let changed = false;
  const next = widgets.map((w, i) => {
    const l = byId.get(w.id ?? `new${i}`);
    if (!l) return w;
    const p = { x: l.x, y: l.y, w: l.w, h: l.h };
    if (p.x === w.position.x && p.y === w.position.y && p.w === w.position.w && p.h === w.position.h) return w;
    changed = true;
    return { ...w, position: p };
  });
  return changed ? next : widgets;
}

/** Where a new widget goes: the first place, row by row from the top left, where it fits
 * without covering another; below everything when there is none. */
export function nextPosition(widgets: Widget[], type: WidgetType, cols: number = GRID_COLS): Position {
  const { w, h } = DEFAULT_SIZE[type];
  const bottom = widgets.reduce((y, x) => Math.max(y, x.position.y + x.position.h), 0);
  const free = (x: number, y: number) =>
    widgets.every((o) => {
      const p = o.position;
      return x + w <= p.x || p.x + p.w <= x || y + h <= p.y || p.y + p.h <= y;
    });
  for (let y = 0; y < bottom; y += 1) {
    for (let x = 0; x + w <= cols; x += 1) {
      if (free(x, y)) return { x, y, w, h };
    }
  }
  return { x: 0, y: bottom, w, h };
}

/** An id no widget has (`w1`, `w2`, … as the server names them). */
export function newWidgetId(widgets: Widget[]): string {
  const used = new Set(widgets.map((w) => w.id));
  let n = widgets.length + 1;
  while (used.has(`w${n}`)) n += 1;
  return `w${n}`;
}

// ---------------------------------------------------------------- documents

/** What PUT takes back: the document without what the server adds (id, owner, times). */
export function dashboardBody(d: Dashboard | DashboardBody): DashboardBody {
  const { id: _id, owner: _owner, created_at: _c, updated_at: _u, ...body } = d as Dashboard;
  return body;
}

export type ImportProblem = 'not_json' | 'not_dashboard';

export class ImportError extends Error {
  constructor(readonly problem: ImportProblem) {
    super(problem);
  }
}

/** Pasted or uploaded text → what the import endpoint takes: an export, or a bare dashboard. */
export function parseImport(text: string): Export {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ImportError('not_json');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ImportError('not_dashboard');
  const o = v as Record<string, unknown>;
  const doc = (o.dashboard && typeof o.dashboard === 'object' ? o.dashboard : o) as Record<string, unknown>;
  if (typeof doc.name !== 'string' || (doc.widgets !== undefined && !Array.isArray(doc.widgets))) throw new ImportError('not_dashboard');
  return { nexuslog_dashboard: typeof o.nexuslog_dashboard === 'number' ? o.nexuslog_dashboard : 1, dashboard: dashboardBody(doc as unknown as DashboardBody) };
}

/** A file name for an export. */
export function exportFileName(name: string): string {
  const base = name.trim().replace(/[^\p{L}\p{N}._-]+/gu, '-').replace(/^-+|-+$/g, '');
  return `${base || 'dashboard'}.json`;
}

// ---------------------------------------------------------------- variables

/** `$name` replaced by the quoted value, or by `*` when none is chosen: what the server does on render. */
export function substitute(query: string, values: Record<string, string>, variables: Variable[]): string {
  let q = query;
  // Longest names first, so `$service_name` is not cut by `$service`.
  const vars = [...variables].sort((a, b) => b.name.length - a.name.length);
  for (const v of vars) {
    // A value chosen as `*` (any) wins over the default, as on the server.
    const chosen = values[v.name] ?? v.default;
    const text = chosen === undefined || chosen === '' || chosen === '*' ? '*' : `"${chosen.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    q = q.split(`$${v.name}`).join(text);
  }
  return q;
}

export const VAR_PREFIX = 'var-';

/** Chosen variable values from the page's URL (`var-service=checkout`). */
export function variablesFromParams(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  params.forEach((value, key) => {
    if (key.startsWith(VAR_PREFIX)) out[key.slice(VAR_PREFIX.length)] = value;
  });
  return out;
}

export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// ---------------------------------------------------------------- refresh

export const REFRESH_CHOICES = ['', '10s', '30s', '1m', '5m', '15m', '1h'] as const;

/** `30s` → 30 000; null for none or what is not an interval. */
export function refreshMs(text: string | null | undefined): number | null {
  const m = /^(\d+)([smhd])$/.exec((text ?? '').trim());
  if (!m || Number(m[1]) === 0) return null;
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}
