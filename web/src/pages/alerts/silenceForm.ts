import type { SilenceBody } from './api';
import type { LabelPair } from './ruleForm';

export interface SilenceFormValues {
  rule_id?: string;
  labels: LabelPair[];
  /** Epoch ms. */
  ends_at: number;
  comment: string;
}

/** The body of a new silence; null when it would match nothing in particular (no rule, no label). */
export function formToSilence(v: SilenceFormValues): SilenceBody | null {
  const labels: Record<string, string> = {};
  for (const l of v.labels ?? []) {
    const k = (l?.key ?? '').trim();
    if (k) labels[k] = l.value ?? '';
  }
  const matchers: SilenceBody['matchers'] = {};
  if (v.rule_id) matchers.rule_id = v.rule_id;
  if (Object.keys(labels).length) matchers.labels = labels;
  if (!matchers.rule_id && !matchers.labels) return null;
  return { matchers, ends_at: new Date(v.ends_at).toISOString(), comment: (v.comment ?? '').trim() };
}

/** Whether a silence is in force at `nowMs`. */
export function silenceActive(s: { starts_at: string; ends_at: string }, nowMs: number): boolean {
  return Date.parse(s.starts_at) <= nowMs && nowMs < Date.parse(s.ends_at);
}
