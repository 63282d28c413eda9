// The dashboard endpoints: documents (yours and the shared ones), export/import, and render,
// which runs every widget's aggregation over one range in a single call.

import { api } from '../../api';
import type { HistogramResult, TermsResult } from '../../api';

const p = (project: string) => `/v1/projects/${encodeURIComponent(project)}`;
const one = (project: string, id: string) => `${p(project)}/dashboards/${encodeURIComponent(id)}`;

export type WidgetType = 'line' | 'bar' | 'pie' | 'single_value' | 'table';
export const WIDGET_TYPES: WidgetType[] = ['line', 'bar', 'pie', 'single_value', 'table'];

/** One aggregation in the aggregate API's format (exactly one key). */
export type AggSpec =
  | { count: Record<string, never> }
  | { date_histogram: { interval: string; split_by?: string; size?: number } }
  | { terms: { field: string; size?: number } }
  | { stats: { field: string } }
  | { percentiles: { field: string; percents?: number[] } }
  | { cardinality: { field: string } };

export interface Position {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Display options only the console reads (the server keeps them as given). */
export interface WidgetOptions {
  unit?: string;
  /** single value from stats: which statistic. */
  stat?: 'count' | 'min' | 'max' | 'avg' | 'sum';
  /** bar from a histogram: stack the series. */
  stack?: boolean;
}

export interface Widget {
  id?: string;
  type: WidgetType;
  title: string;
  query: string;
  aggregation: AggSpec;
  options?: WidgetOptions;
  position: Position;
}

export interface Variable {
  name: string;
  field: string;
  size?: number;
  default?: string;
}

export interface TimeRangeBody {
  from: string;
  to?: string;
}

/** A dashboard as submitted (POST/PUT body, and the `dashboard` of an export). */
export interface DashboardBody {
  name: string;
  description?: string;
  time_range?: TimeRangeBody;
  refresh?: string;
  variables?: Variable[];
  widgets: Widget[];
  shared?: boolean;
}

export interface Dashboard extends DashboardBody {
  id: string;
  owner: string;
  created_at: string;
  updated_at: string;
}

export interface Export {
  nexuslog_dashboard: number;
  dashboard: DashboardBody;
}

export interface StatsResult {
  count: number;
  min: number | null;
  max: number | null;
  avg: number | null;
  sum: number;
}
export interface PercentilesResult {
  values: { percent: number; value: number | null }[];
}
export interface ValueResult {
  value: number;
}
export type AggResult = HistogramResult | TermsResult | StatsResult | PercentilesResult | ValueResult;

export interface RenderedWidget {
  id: string;
  type: WidgetType;
  title: string;
  data?: AggResult;
  error?: string;
}

export interface RenderedVariable {
  field: string;
  values: (string | number | boolean)[];
  selected: string;
}

export interface RenderAnswer {
  from: string;
  to: string;
  took_ms: number;
  variables: Record<string, RenderedVariable>;
  widgets: RenderedWidget[];
}

export const listDashboards = (project: string, signal?: AbortSignal) =>
  api.get<{ items: Dashboard[] }>(`${p(project)}/dashboards`, undefined, signal).then((a) => a.items ?? []);
export const getDashboard = (project: string, id: string, signal?: AbortSignal) => api.get<Dashboard>(one(project, id), undefined, signal);
export const createDashboard = (project: string, body: DashboardBody) => api.post<Dashboard>(`${p(project)}/dashboards`, body);
export const updateDashboard = (project: string, id: string, body: DashboardBody) => api.put<Dashboard>(one(project, id), body);
export const deleteDashboard = (project: string, id: string) => api.delete<unknown>(one(project, id));
export const exportDashboard = (project: string, id: string) => api.get<Export>(`${one(project, id)}/export`);
export const importDashboard = (project: string, doc: Export) => api.post<Dashboard>(`${p(project)}/dashboards/import`, doc);

export const renderDashboard = (
  project: string,
  id: string,
  range: { from: string; to: string },
  variables: Record<string, string>,
  signal?: AbortSignal,
) => api.post<RenderAnswer>(`${one(project, id)}/render`, { variables }, { query: range, signal });

/** One aggregation over a range: the widget editor's preview of a widget not saved yet. */
export const previewAggregate = (project: string, body: { q: string; from: string; to: string; aggs: { v: AggSpec } }, signal?: AbortSignal) =>
  api.post<{ aggs: { v: AggResult }; from: string; to: string }>(`${p(project)}/aggregate`, body, { signal });
