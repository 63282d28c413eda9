// The alerting endpoints: rules (with their live state), channels, silences, the transition history.

import { api } from '../../api';
import { normalizeRule } from './state';

const p = (project: string) => `/v1/projects/${encodeURIComponent(project)}`;

export type AggKind = 'count' | 'avg' | 'min' | 'max' | 'sum' | 'p95' | 'p99' | 'count_distinct';
export const AGG_KINDS: AggKind[] = ['count', 'avg', 'min', 'max', 'sum', 'p95', 'p99', 'count_distinct'];
export type Op = '>' | '>=' | '<' | '<=' | '==';
export const OPS: Op[] = ['>', '>=', '<', '<=', '=='];
export type Severity = 'info' | 'warning' | 'critical';
export const SEVERITIES: Severity[] = ['info', 'warning', 'critical'];
export type RuleKind = 'threshold' | 'absence';
export type GroupState = 'ok' | 'pending' | 'firing';

/** A rule as submitted (POST/PUT body). */
export interface RuleBody {
  name: string;
  query: string;
  window: string;
  every?: string | null;
  aggregation: Partial<Record<AggKind, { field?: string }>>;
  group_by: string[];
  condition?: { op: Op; threshold: number } | null;
  for?: string | null;
  kind: RuleKind;
  severity: Severity;
  channels: string[];
  labels: Record<string, string>;
  message?: string | null;
  allowed_lateness?: string | null;
  enabled: boolean;
}

export interface GroupStatus {
  group: string[];
  state: GroupState;
  value: number | null;
  since: string | null;
  last_window_end: string | null;
}

export interface RuleState {
  groups: GroupStatus[];
  groups_dropped: number;
  late_events: number;
  open_windows: number;
}

export interface Rule extends RuleBody {
  id: string;
  created_at: string;
  updated_at: string;
  state?: RuleState;
}

export type ChannelType = 'webhook' | 'email' | 'slack' | 'dingtalk' | 'feishu' | 'wecom';
export const CHANNEL_TYPES: ChannelType[] = ['webhook', 'email', 'slack', 'dingtalk', 'feishu', 'wecom'];

export interface ChannelBody {
  name: string;
  type: ChannelType;
  config: Record<string, unknown>;
}
export interface Channel extends ChannelBody {
  id: string;
  created_at: string;
  updated_at: string;
}
export interface TestAnswer {
  ok: boolean;
  detail: string;
  delivery_id: string;
}

export interface Attempt {
  attempt: number;
  at: string;
  ok: boolean;
  detail: string;
}
export interface Delivery {
  id: string;
  channel_id: string;
  status: 'pending' | 'delivered' | 'failed' | 'silenced' | string;
  attempts: Attempt[];
  last_error: string | null;
}
export interface Transition {
  id: string;
  rule_id: string;
  rule_name: string;
  group: Record<string, string> | null;
  from: GroupState;
  to: GroupState;
  value: number | null;
  threshold: number | null;
  severity: Severity;
  window: { start: string; end: string };
  event_time: string;
  recorded_at: string;
  labels: Record<string, string> | null;
  message: string;
  acked_by: string | null;
  acked_at: string | null;
  notifications: Delivery[];
}

export interface SilenceBody {
  matchers: { rule_id?: string | null; labels?: Record<string, string> };
  starts_at?: string | null;
  ends_at: string;
  comment?: string;
}
export interface Silence extends SilenceBody {
  id: string;
  created_at: string;
  created_by: string;
  starts_at: string;
}

export const listRules = (project: string, signal?: AbortSignal) =>
  api.get<{ rules: Rule[] }>(`${p(project)}/alert-rules`, undefined, signal).then((a) => ({ rules: (a.rules ?? []).map(normalizeRule) }));
export const getRule = (project: string, id: string, signal?: AbortSignal) =>
  api.get<Rule>(`${p(project)}/alert-rules/${encodeURIComponent(id)}`, undefined, signal).then(normalizeRule);
export const createRule = (project: string, body: RuleBody) => api.post<Rule>(`${p(project)}/alert-rules`, body);
export const updateRule = (project: string, id: string, body: RuleBody) => api.put<Rule>(`${p(project)}/alert-rules/${encodeURIComponent(id)}`, body);
export const deleteRule = (project: string, id: string) => api.delete<unknown>(`${p(project)}/alert-rules/${encodeURIComponent(id)}`);

export const listChannels = (project: string, signal?: AbortSignal) =>
  api.get<{ channels: Channel[] }>(`${p(project)}/alert-channels`, undefined, signal);
export const createChannel = (project: string, body: ChannelBody) => api.post<Channel>(`${p(project)}/alert-channels`, body);
export const updateChannel = (project: string, id: string, body: ChannelBody) =>
  api.put<Channel>(`${p(project)}/alert-channels/${encodeURIComponent(id)}`, body);
export const deleteChannel = (project: string, id: string) => api.delete<unknown>(`${p(project)}/alert-channels/${encodeURIComponent(id)}`);
export const testChannel = (project: string, id: string) => api.post<TestAnswer>(`${p(project)}/alert-channels/${encodeURIComponent(id)}/test`);

export const listAlerts = (project: string, params: { rule_id?: string; before?: string; limit?: number }, signal?: AbortSignal) =>
  api.get<{ alerts: Transition[]; next_before: string | null }>(`${p(project)}/alerts`, params, signal);
export const ackAlert = (project: string, id: string) => api.post<unknown>(`${p(project)}/alerts/${encodeURIComponent(id)}/ack`);

export const listSilences = (project: string, signal?: AbortSignal) =>
  api.get<{ silences: Silence[] }>(`${p(project)}/silences`, undefined, signal);
export const createSilence = (project: string, body: SilenceBody) => api.post<Silence>(`${p(project)}/silences`, body);
export const deleteSilence = (project: string, id: string) => api.delete<unknown>(`${p(project)}/silences/${encodeURIComponent(id)}`);

/** One aggregate request (the chart of a rule's aggregation). */
export const aggregate = <T,>(project: string, body: { q: string; from: string; to: string; aggs: Record<string, unknown> }, signal?: AbortSignal) =>
  api.post<{ aggs: T; from: string; to: string }>(`${p(project)}/aggregate`, body, { signal });
