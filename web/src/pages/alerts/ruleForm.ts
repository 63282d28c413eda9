// The rule editor's form values and the rule JSON the API takes, both ways; where a server's
// field-named 400 goes on the form.

import type { AggKind, Op, Rule, RuleBody, RuleKind, Severity } from './api';

export interface LabelPair {
  key: string;
  value: string;
}

export interface RuleFormValues {
  name: string;
  query: string;
  window: string;
  every: string;
  aggKind: AggKind;
  aggField: string;
  group_by: string[];
  op: Op;
  threshold: number | null;
  for: string;
  kind: RuleKind;
  severity: Severity;
  channels: string[];
  labels: LabelPair[];
  message: string;
  allowed_lateness: string;
  enabled: boolean;
}

export const DEFAULT_FORM: RuleFormValues = {
  name: '',
  query: '',
  window: '5m',
  every: '',
  aggKind: 'count',
  aggField: '',
  group_by: [],
  op: '>',
  threshold: 0,
  for: '',
  kind: 'threshold',
  severity: 'warning',
  channels: [],
  labels: [],
  message: '',
  allowed_lateness: '',
  enabled: true,
};

/** The aggregation's name and field from `{"avg": {"field": "x"}}`. */
export function splitAggregation(agg: RuleBody['aggregation'] | undefined): { kind: AggKind; field: string } {
  const entry = Object.entries(agg ?? {})[0];
  if (!entry) return { kind: 'count', field: '' };
  return { kind: entry[0] as AggKind, field: entry[1]?.field ?? '' };
}

export function ruleToForm(rule?: Partial<Rule>): RuleFormValues {
  if (!rule) return { ...DEFAULT_FORM, labels: [], group_by: [], channels: [] };
  const { kind: aggKind, field: aggField } = splitAggregation(rule.aggregation);
  return {
    name: rule.name ?? '',
    query: rule.query ?? '',
    window: rule.window ?? DEFAULT_FORM.window,
    every: rule.every ?? '',
    aggKind,
    aggField,
    group_by: [...(rule.group_by ?? [])],
    op: rule.condition?.op ?? '>',
    threshold: rule.condition ? rule.condition.threshold : null,
    for: rule.for ?? '',
    kind: rule.kind ?? 'threshold',
    severity: rule.severity ?? 'warning',
    channels: [...(rule.channels ?? [])],
    labels: Object.entries(rule.labels ?? {}).map(([key, value]) => ({ key, value })),
    message: rule.message ?? '',
    allowed_lateness: rule.allowed_lateness ?? '',
    enabled: rule.enabled ?? true,
  };
}

const opt = (s: string | undefined) => {
  const v = (s ?? '').trim();
  return v === '' ? null : v;
};

export function formToRule(v: RuleFormValues): RuleBody {
  const labels: Record<string, string> = {};
  for (const l of v.labels ?? []) {
    const k = (l?.key ?? '').trim();
    if (k) labels[k] = l.value ?? '';
  }
  const aggregation: RuleBody['aggregation'] = v.aggKind === 'count' ? { count: {} } : { [v.aggKind]: { field: v.aggField.trim() } };
  const threshold = v.threshold === null || v.threshold === undefined || Number.isNaN(Number(v.threshold)) ? null : Number(v.threshold);
  return {
    name: v.name.trim(),
    query: v.query ?? '',
    window: v.window.trim(),
    every: opt(v.every),
    aggregation,
    group_by: (v.group_by ?? []).map((g) => g.trim()).filter(Boolean),
    // An absence rule has no condition: it fires on an empty window.
    condition: v.kind === 'absence' || threshold === null ? null : { op: v.op, threshold },
    for: opt(v.for),
    kind: v.kind,
    severity: v.severity,
    channels: [...(v.channels ?? [])],
    labels,
    message: opt(v.message),
    allowed_lateness: opt(v.allowed_lateness),
    enabled: v.enabled,
  };
}

/** The form field a server error's `field` names (`aggregation.avg.field` → `aggField`), or null. */
export function formFieldOf(field: string | undefined): keyof RuleFormValues | null {
  if (!field) return null;
  const head = field.split(/[.[]/)[0];
  if (head === 'aggregation') return field.endsWith('.field') ? 'aggField' : 'aggKind';
  if (head === 'condition') return field === 'condition.op' ? 'op' : 'threshold';
  const direct: (keyof RuleFormValues)[] = [
    'name', 'query', 'window', 'every', 'group_by', 'for', 'kind', 'severity', 'channels', 'labels', 'message', 'allowed_lateness', 'enabled',
  ];
  return (direct as string[]).includes(head) ? (head as keyof RuleFormValues) : null;
}

/** The character offset in "… (at character 6)", a rule query's error. */
export function queryErrorPosition(message: string): number | undefined {
  const m = /\(at character (\d+)\)\s*$/.exec(message);
  return m ? Number(m[1]) : undefined;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds of a duration like `30s`, `5m`, `1h` (the units rules take), or null. */
export function durationMs(s: string | null | undefined): number | null {
  const m = /^\s*(\d+)\s*([smhdw])\s*$/.exec(s ?? '');
  if (!m) return null;
  const n = Number(m[1]) * UNIT_MS[m[2]];
  return n > 0 ? n : null;
}
