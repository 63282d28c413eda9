// The shapes of the API's answers that the console reads (see GET /v1/openapi.json).

export interface User {
  id: string;
  email: string;
  name: string | null;
  is_admin: boolean;
  created_at: string;
  disabled_at: string | null;
}

export type Role = 'viewer' | 'editor' | 'admin' | 'owner';

export interface LoginAnswer {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  user: User;
}

export interface Me {
  user: User;
  projects: { slug: string; name: string; role: Role }[];
}

export interface Project {
  id: string;
  slug: string;
  name: string;
  created_at: string;
  /** The caller's role; null for an instance admin who is not a member. */
  role: Role | null;
}

export type Permission =
  | 'project_read'
  | 'project_update'
  | 'project_delete'
  | 'logs_read'
  | 'saved_queries_read'
  | 'saved_queries_write'
  | 'dashboards_read'
  | 'dashboards_write'
  | 'alert_rules_read'
  | 'alert_rules_write'
  | 'pipelines_read'
  | 'pipelines_write'
  | 'members_read'
  | 'members_write'
  | 'api_keys_read'
  | 'api_keys_write'
  | 'audit_read';

export interface RolesAnswer {
  roles: { role: Role; permissions: Permission[] }[];
}

export interface LogRecord {
  id: string;
  timestamp: string;
  timestamp_source?: string;
  received_at?: string;
  level: string;
  message: string;
  host: string | null;
  service: string | null;
  source: string | null;
  fields: Record<string, unknown>;
  parse_status?: string;
  parse_errors?: unknown[];
  trace_id?: string | null;
  span_id?: string | null;
  highlight?: { message?: [number, number][] };
}

export interface SearchAnswer {
  total: number;
  total_relation: 'eq' | 'gte';
  hits: LogRecord[];
  next_cursor: string | null;
}

export interface TopValue {
  key: string | number | boolean;
  count: number;
}

export interface FieldRow {
  name: string;
  types: string[];
  conflict: boolean;
  top_values?: TopValue[];
  other?: number;
}

export interface FieldsAnswer {
  fields: FieldRow[];
  conflicts: number;
  top_values_truncated?: boolean;
}

export interface HistogramBucket {
  key: number;
  key_as_string: string;
  count: number;
}

export interface HistogramResult {
  interval_ms: number;
  buckets: HistogramBucket[];
  series?: { key: string; counts: number[] }[];
  other?: number[];
}

export interface TermsResult {
  buckets: TopValue[];
  other: number;
}

export interface AggregateAnswer<A = Record<string, unknown>> {
  from: string;
  to: string;
  took_ms: number;
  aggs: A;
}
