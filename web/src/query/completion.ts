// Completion for the query editor, as pure functions of the text, the cursor and what the
// project knows (its field catalog and each field's top values): the editor only adapts them.

import { formatValue } from './filters';
import { type Token, tokenize } from './tokenizer';

/** Fields every record has (README "Search language"); `message` is searched by bare words. */
export const STANDARD_FIELDS = [
  'level',
  'service',
  'host',
  'source',
  'message',
  'timestamp',
  'trace_id',
  'span_id',
  'id',
  'parse_status',
  'timestamp_source',
] as const;

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

export interface FieldInfo {
  name: string;
  types?: string[];
  standard?: boolean;
}

export interface ValueCount {
  value: string | number | boolean;
  count?: number;
}

export interface Catalog {
  fields: FieldInfo[];
  /** Top values per field name. */
  values: Record<string, ValueCount[]>;
}

export type CompletionContext =
  | { kind: 'field'; from: number; to: number; prefix: string }
  | { kind: 'value'; field: string; from: number; to: number; prefix: string };

export interface Suggestion {
  label: string;
  /** The text that replaces [from, to). */
  apply: string;
  type: 'field' | 'value';
  /** Field types, or the value's count. */
  detail?: string;
  count?: number;
}

export interface SuggestionResult {
  from: number;
  to: number;
  options: Suggestion[];
}

const VALUE_TYPES = new Set(['string', 'value', 'number', 'wildcard']);

/** What the cursor is on: a field name being typed, or a field's value; null where neither fits. */
export function completionContext(query: string, pos: number, explicit = false): CompletionContext | null {
  const tokens = tokenize(query);
  let index = -1;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i].from < pos && pos <= tokens[i].to) {
      index = i;
      break;
    }
  }
  if (index < 0) {
    const before = query[pos - 1];
    const atBoundary = pos === 0 || before === undefined || /\s|\(/u.test(before);
    if (explicit && atBoundary) return { kind: 'field', from: pos, to: pos, prefix: '' };
    // After a negation (`-`) a field name may follow.
    if (before === '-' && explicit) return { kind: 'field', from: pos, to: pos, prefix: '' };
    return null;
  }
  const t = tokens[index];
  if ((t.type === 'paren' || t.type === 'keyword' || t.type === 'negation') && pos === t.to) {
    // Right after `(`, `-` or a keyword with no space: a term starts here.
    return explicit && t.text !== ')' ? { kind: 'field', from: pos, to: pos, prefix: '' } : null;
  }
  if (t.type === 'field') {
    const name = t.text.slice(0, -1);
    if (pos === t.to) {
      // Right after the colon: the value that follows (if any) is replaced whole.
      const next: Token | undefined = tokens[index + 1];
      const to = next && next.from === pos && VALUE_TYPES.has(next.type) ? next.to : pos;
      return valueContext(name, pos, to, '');
    }
    return { kind: 'field', from: t.from, to: t.to, prefix: query.slice(t.from, pos) };
  }
  if (VALUE_TYPES.has(t.type) && t.field !== undefined) {
    const prev: Token | undefined = tokens[index - 1];
    if (!prev || prev.type !== 'field' || prev.to !== t.from) return null; // a range bound or after `>`
    let prefix = query.slice(t.from, pos);
    if (prefix.startsWith('"')) prefix = prefix.slice(1).replace(/\\(.)/g, '$1');
    return valueContext(t.field, t.from, t.to, prefix);
  }
  if (t.type === 'word' || t.type === 'wildcard') {
    const prefix = query.slice(t.from, pos);
    if (!/^[A-Za-z_@][A-Za-z0-9_.@-]*$/.test(prefix)) return null;
    return { kind: 'field', from: t.from, to: t.to, prefix };
  }
  return null;
}

function valueContext(field: string, from: number, to: number, prefix: string): CompletionContext {
  return { kind: 'value', field, from, to, prefix };
}

/** Field names: the standard ones and the catalog's, deduplicated. */
export function allFields(catalog: Catalog): FieldInfo[] {
  const seen = new Map<string, FieldInfo>();
  for (const name of STANDARD_FIELDS) seen.set(name, { name, standard: true });
  for (const f of catalog.fields) if (!seen.has(f.name)) seen.set(f.name, f);
  return [...seen.values()];
}

/** Matches a candidate: prefixes first, then other substrings; case-insensitive. */
function rank(candidate: string, prefix: string): number {
  if (prefix === '') return 1;
  const c = candidate.toLowerCase();
  const p = prefix.toLowerCase();
  if (c.startsWith(p)) return 2;
  if (c.includes(p)) return 1;
  return 0;
}

/** Field names match by prefix, of the whole name (first) or of a dotted part (`status`). */
function rankField(name: string, prefix: string): number {
  if (prefix === '') return 1;
  const n = name.toLowerCase();
  const p = prefix.toLowerCase();
  if (n.startsWith(p)) return 2;
  return n.split('.').slice(1).some((part) => part.startsWith(p)) ? 1 : 0;
}

/** The values to offer for a field: its top values, and for `level` every level. */
export function valuesFor(field: string, catalog: Catalog): ValueCount[] {
  const top = catalog.values[field] ?? [];
  if (field !== 'level') return top;
  const byName = new Map<string, ValueCount>();
  for (const v of top) byName.set(String(v.value).toLowerCase(), { value: String(v.value).toLowerCase(), count: v.count });
  for (const l of LEVELS) if (!byName.has(l)) byName.set(l, { value: l });
  return [...byName.values()];
}

/** Completions at `pos`, or null when there is nothing to offer there. */
export function suggest(query: string, pos: number, catalog: Catalog, explicit = false): SuggestionResult | null {
  const ctx = completionContext(query, pos, explicit);
  if (!ctx) return null;
  if (ctx.kind === 'field') {
    if (ctx.prefix === '' && !explicit) return null;
    const options = allFields(catalog)
      .map((f) => ({ f, r: rankField(f.name, ctx.prefix) }))
      .filter(({ f, r }) => r > 0 && !(f.name === ctx.prefix && query[ctx.to - 1] === ':'))
      .sort((a, b) => b.r - a.r || Number(!!b.f.standard) - Number(!!a.f.standard) || a.f.name.localeCompare(b.f.name))
      .map(({ f }) => ({
        label: f.name,
        apply: `${f.name}:`,
        type: 'field' as const,
        detail: f.types?.join(' | '),
      }));
    return options.length ? { from: ctx.from, to: ctx.to, options } : null;
  }
  const options = valuesFor(ctx.field, catalog)
    .map((v) => ({ v, r: rank(String(v.value), ctx.prefix) }))
    .filter(({ r }) => r > 0)
    .sort((a, b) => b.r - a.r || (b.v.count ?? 0) - (a.v.count ?? 0))
    .map(({ v }) => ({
      label: String(v.value),
      apply: formatValue(v.value),
      type: 'value' as const,
      count: v.count,
    }));
  return options.length ? { from: ctx.from, to: ctx.to, options } : null;
}
