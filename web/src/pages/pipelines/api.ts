import { api } from '../../api';

const p = (project: string) => `/v1/projects/${encodeURIComponent(project)}`;

/** One step: `{kind: settings}`; a preset step's setting is the preset's name. */
export type Step = Record<string, Record<string, unknown> | string>;
export interface When {
  source?: string | null;
  host?: string | null;
  service?: string | null;
  field?: { name: string; equals?: string | null; matches?: string | null; exists?: boolean | null } | null;
}
export interface RuleSpec {
  name: string;
  enabled?: boolean;
  on_error?: 'keep' | 'dead_letter';
  when?: When;
  /** Zone of times the rule reads that give none. */
  timezone?: string | null;
  steps: Step[];
}
export interface PipelineRule extends RuleSpec {
  id: string;
  position: number;
  updated_at: string;
}

export interface StepTrace {
  step: string;
  ok: boolean;
  error?: string;
}
export interface RuleTrace {
  rule: string;
  matched: boolean;
  steps: StepTrace[];
}
export interface DryRecord {
  message: string;
  level: string;
  host: string | null;
  service: string | null;
  source: string;
  timestamp: string;
  timestamp_source: string;
  parse_status: string;
  parse_errors: string[];
  trace_id: string | null;
  span_id: string | null;
  fields: Record<string, unknown>;
  [k: string]: unknown;
}
export interface DryResult {
  outcome: 'record' | 'dropped' | 'dead_letter' | 'joined';
  /** For `joined`: the 1-based line this one continues. */
  into?: number;
  record?: DryRecord;
  rule?: string;
  reason?: string;
  trace?: RuleTrace[];
}

export const getPipeline = (project: string, signal?: AbortSignal) =>
  api.get<{ revision: number; rules: PipelineRule[] }>(`${p(project)}/pipeline`, undefined, signal);
export const createRule = (project: string, spec: RuleSpec, position?: number) =>
  api.request<{ rule: PipelineRule }>('POST', `${p(project)}/pipeline/rules`, { body: spec, query: { position } });
export const updateRule = (project: string, id: string, spec: RuleSpec, position?: number) =>
  api.request<{ rule: PipelineRule }>('PUT', `${p(project)}/pipeline/rules/${encodeURIComponent(id)}`, { body: spec, query: { position } });
export const deleteRule = (project: string, id: string) => api.delete<unknown>(`${p(project)}/pipeline/rules/${encodeURIComponent(id)}`);
export const dryRun = (project: string, body: { lines: string[]; source?: string; rules?: RuleSpec[] }, signal?: AbortSignal) =>
  api.post<{ results: DryResult[] }>(`${p(project)}/pipeline/dry-run`, body, { signal });

/** One preset that parses some of the sample lines, with what its first ones become. */
export interface Detection {
  preset: string;
  version: number;
  title: string;
  parsed: number;
  lines: number;
  share: number;
  preview: DryResult[];
}
export const detect = (project: string, lines: string[], signal?: AbortSignal) =>
  api.post<{ presets: Detection[] }>(`${p(project)}/pipeline/detect`, { lines }, { signal });
