// Pure helpers of the pipeline page: a rule's spec, the form ↔ spec mapping, reordering, the
// pipeline a dry run tries, and its answer shaped for display.

import type { DryResult, PipelineRule, RuleSpec, Step, When } from './api';

export const STEP_TYPES = ['multiline', 'auto', 'parse', 'rename', 'remove', 'set', 'convert', 'map_level', 'drop', 'preset'] as const;
export type StepType = (typeof STEP_TYPES)[number];

/** A saved rule without what the server adds (id, position, updated_at). */
export function specOf(r: PipelineRule | RuleSpec): RuleSpec {
  const { name, enabled, on_error, when, steps, timezone } = r;
  const out: RuleSpec = { name, steps };
  if (enabled !== undefined) out.enabled = enabled;
  if (timezone !== undefined && timezone !== null) out.timezone = timezone;
  if (on_error !== undefined) out.on_error = on_error;
  if (when !== undefined) out.when = when;
  return out;
}

/** A step's settings: an object, except a preset's, which is its name. */
export const STEP_TEMPLATES: Record<StepType, Record<string, unknown> | string> = {
  parse: { with: 'grok', patterns: ['%{COMBINEDAPACHELOG}'] },
  rename: { from: '', to: '' },
  remove: { fields: [] },
  set: { field: '', value: '' },
  convert: { field: '', to: 'int' },
  map_level: { field: '' },
  drop: {},
  preset: 'nginx_access',
  multiline: { kind: 'traces' },
  auto: {},
};

export interface StepForm {
  type: StepType;
  /** The step's body as JSON text. */
  body: string;
}
export type FieldTest = 'none' | 'equals' | 'matches' | 'exists' | 'absent';
export interface RuleForm {
  name: string;
  enabled: boolean;
  on_error: 'keep' | 'dead_letter';
  source: string;
  host: string;
  service: string;
  fieldName: string;
  fieldTest: FieldTest;
  fieldValue: string;
  /** Zone of times without one: UTC (empty), +08:00, Asia/Shanghai. */
  timezone: string;
  steps: StepForm[];
}

export function specToForm(s: RuleSpec): RuleForm {
  const f = s.when?.field;
  let fieldTest: FieldTest = 'none';
  let fieldValue = '';
  if (f) {
    if (f.equals !== undefined && f.equals !== null) [fieldTest, fieldValue] = ['equals', f.equals];
    else if (f.matches !== undefined && f.matches !== null) [fieldTest, fieldValue] = ['matches', f.matches];
    else if (f.exists === false) fieldTest = 'absent';
    else fieldTest = 'exists';
  }
  return {
    name: s.name ?? '',
    enabled: s.enabled ?? true,
    on_error: s.on_error ?? 'keep',
    source: s.when?.source ?? '',
    host: s.when?.host ?? '',
    service: s.when?.service ?? '',
    fieldName: f?.name ?? '',
    fieldTest,
    fieldValue,
    timezone: s.timezone ?? '',
    steps: (s.steps ?? []).map((st) => {
      const [type, body] = Object.entries(st)[0] ?? ['drop', {}];
      return { type: type as StepType, body: JSON.stringify(body ?? {}, null, 2) };
    }),
  };
}

export class StepJsonError extends Error {
  constructor(readonly index: number, message: string) {
    super(message);
  }
}

/** The spec of a form; a step whose body is not a JSON object throws StepJsonError. */
export function formToSpec(f: RuleForm): RuleSpec {
  const when: When = {};
  if (f.source?.trim()) when.source = f.source.trim();
  if (f.host?.trim()) when.host = f.host.trim();
  if (f.service?.trim()) when.service = f.service.trim();
  if (f.fieldName?.trim() && f.fieldTest !== 'none') {
    const name = f.fieldName.trim();
    when.field =
      f.fieldTest === 'equals' ? { name, equals: f.fieldValue ?? '' }
      : f.fieldTest === 'matches' ? { name, matches: f.fieldValue ?? '' }
      : { name, exists: f.fieldTest === 'exists' };
  }
  const steps: Step[] = (f.steps ?? []).map((s, i) => {
    let body: unknown;
    try {
      body = s.body?.trim() ? JSON.parse(s.body) : {};
    } catch (e) {
      throw new StepJsonError(i, (e as Error).message);
    }
    if (s.type === 'preset') {
      if (typeof body !== 'string' || !body) throw new StepJsonError(i, 'a preset step is its name, a JSON string like "nginx_access"');
      return { preset: body };
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new StepJsonError(i, 'not a JSON object');
    return { [s.type]: body as Record<string, unknown> };
  });
  const spec: RuleSpec = { name: f.name?.trim() ?? '', enabled: f.enabled, on_error: f.on_error, when, steps };
  if (f.timezone?.trim()) spec.timezone = f.timezone.trim();
  return spec;
}

/** A rule JSON typed by hand: the spec, or what is wrong with it. */
export function parseRuleJson(text: string): { spec: RuleSpec } | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { error: (e as Error).message };
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { error: 'not a JSON object' };
  const o = v as Record<string, unknown>;
  if (typeof o.name !== 'string') return { error: '"name" must be a string' };
  if (!Array.isArray(o.steps)) return { error: '"steps" must be an array' };
  return { spec: specOf(o as unknown as RuleSpec) };
}

/** Position updates that move rule `index` one place up (-1) or down (+1). */
export function moveUpdates(rules: Pick<PipelineRule, 'id' | 'position'>[], index: number, dir: -1 | 1): { id: string; position: number }[] {
  const a = rules[index];
  const b = rules[index + dir];
  if (!a || !b) return [];
  if (a.position !== b.position) return [{ id: a.id, position: b.position }, { id: b.id, position: a.position }];
  return [{ id: a.id, position: b.position + dir }];
}

/** The rules a dry run tries: the saved ones with the draft in place of the edited one (or at the end, or at `position`). */
export function draftPipeline(rules: PipelineRule[], editingId: string | null, draft: RuleSpec | null): RuleSpec[] {
  const out = rules.map((r) => (r.id === editingId && draft ? draft : specOf(r)));
  if (draft && !editingId) out.push(draft);
  return out;
}

/** Sample lines from the text box: one per line, blank ones skipped. */
export function sampleLines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.trim() !== '');
}

export type Verdict = 'ok' | 'partial' | 'dropped' | 'dead_letter' | 'joined';

export interface ShapedResult {
  line: string;
  verdict: Verdict;
  /** The rule that dropped or dead-lettered it. */
  rule?: string;
  reason?: string;
  /** Joined into this (1-based) line by a multiline step. */
  into?: number;
  /** The record's standard fields that are set, then its extracted fields. */
  summary: [string, unknown][];
  fields: Record<string, unknown>;
  errors: string[];
  trace: { rule: string; matched: boolean; steps: { step: string; ok: boolean; error?: string }[]; failed: boolean }[];
}

const SHOWN = ['timestamp', 'level', 'message', 'host', 'service', 'trace_id', 'span_id', 'timestamp_source'] as const;

export function shapeResults(lines: string[], results: DryResult[]): ShapedResult[] {
  return results.map((r, i) => {
    const rec = r.record;
    const verdict: Verdict =
      r.outcome === 'joined' ? 'joined' : r.outcome === 'dropped' ? 'dropped' : r.outcome === 'dead_letter' ? 'dead_letter' : rec?.parse_status === 'partial' ? 'partial' : 'ok';
    const summary: [string, unknown][] = rec ? SHOWN.filter((k) => rec[k] !== null && rec[k] !== undefined && rec[k] !== '').map((k) => [k, rec[k]]) : [];
    return {
      line: lines[i] ?? '',
      verdict,
      rule: r.rule,
      reason: r.reason,
      into: r.into,
      summary,
      fields: rec?.fields ?? {},
      errors: rec?.parse_errors ?? [],
      trace: (r.trace ?? []).map((t) => ({ ...t, failed: t.steps.some((s) => !s.ok) })),
    };
  });
}

/** A step as the rules table names it: its kind, and a preset's name (`preset nginx_access`). */
export function stepLabel(s: Step): string {
  const [kind, body] = Object.entries(s)[0] ?? ['?', ''];
  return typeof body === 'string' && body ? `${kind} ${body}` : kind;
}

/** `service=nginx host=web-* field level exists`, or null (every record). */
export function whenText(w: When | undefined): string | null {
  if (!w) return null;
  const parts: string[] = [];
  if (w.source) parts.push(`source=${w.source}`);
  if (w.host) parts.push(`host=${w.host}`);
  if (w.service) parts.push(`service=${w.service}`);
  if (w.field) {
    const f = w.field;
    if (f.equals != null) parts.push(`${f.name} == ${JSON.stringify(f.equals)}`);
    else if (f.matches != null) parts.push(`${f.name} ~ /${f.matches}/`);
    else parts.push(f.exists === false ? `!${f.name}` : `${f.name} exists`);
  }
  return parts.length ? parts.join(' · ') : null;
}
