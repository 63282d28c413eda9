// A rule's live state summed up for the list: the worst state of its groups.

import type { GroupState, Rule, RuleState } from './api';

const RANK: Record<GroupState, number> = { ok: 0, pending: 1, firing: 2 };

export interface StateSummary {
  state: GroupState | 'disabled' | 'unknown';
  counts: Record<GroupState, number>;
}

export function summarizeState(rule: Pick<Rule, 'enabled'>, state: RuleState | undefined): StateSummary {
  const counts: Record<GroupState, number> = { ok: 0, pending: 0, firing: 0 };
  if (!rule.enabled) return { state: 'disabled', counts };
  if (!state) return { state: 'unknown', counts };
  let worst: GroupState = 'ok';
  for (const g of state.groups) {
    const s = (g.state in RANK ? g.state : 'ok') as GroupState;
    counts[s] += 1;
    if (RANK[s] > RANK[worst]) worst = s;
  }
  return { state: worst, counts };
}

/** A condition as people read it: `count > 50`, `p95(latency_ms) >= 300`, `no events`. */
export function conditionText(rule: Pick<Rule, 'kind' | 'aggregation' | 'condition'>, absence: string): string {
  if (rule.kind === 'absence') return absence;
  const [name, body] = Object.entries(rule.aggregation ?? { count: {} })[0] ?? ['count', {}];
  const agg = name === 'count' ? 'count' : `${name}(${body?.field ?? ''})`;
  return rule.condition ? `${agg} ${rule.condition.op} ${rule.condition.threshold}` : agg;
}

/** A group's key as text (`web-1, eu` or `—` for the rule's one group). */
export function groupText(group: string[] | Record<string, string> | null | undefined): string {
  if (!group) return '—';
  const parts = Array.isArray(group) ? group : Object.entries(group).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(', ') : '—';
}

/** A rule as the server answers it, with what it leaves out when empty filled in. */
export function normalizeRule(r: Partial<Rule> & { id: string; name: string; window: string }): Rule {
  return {
    query: '',
    aggregation: { count: {} },
    group_by: [],
    kind: 'threshold',
    severity: 'warning',
    channels: [],
    labels: {},
    enabled: true,
    created_at: '',
    updated_at: '',
    ...r,
  } as Rule;
}
