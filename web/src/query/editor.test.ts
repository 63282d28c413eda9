import { describe, expect, it } from 'vitest';
import { CompletionContext } from '@codemirror/autocomplete';
import { EditorState } from '@codemirror/state';
import type { Catalog } from './completion';
import { completionSource, queryDiagnostic, tokenDecorations } from './editor';

function marks(text: string): [string, string][] {
  const out: [string, string][] = [];
  const set = tokenDecorations(text);
  const iter = set.iter();
  while (iter.value) {
    out.push([text.slice(iter.from, iter.to), String(iter.value.spec.class)]);
    iter.next();
  }
  return out;
}

describe('highlighting', () => {
  it('marks each token with its class', () => {
    expect(marks('level:error AND "disk full" -host:web-* code:[400 TO 499]')).toEqual([
      ['level:', 'nl-tok-field'],
      ['error', 'nl-tok-value'],
      ['AND', 'nl-tok-keyword'],
      ['"disk full"', 'nl-tok-phrase'],
      ['-', 'nl-tok-negation'],
      ['host:', 'nl-tok-field'],
      ['web-*', 'nl-tok-wildcard'],
      ['code:', 'nl-tok-field'],
      ['[', 'nl-tok-range'],
      ['400', 'nl-tok-number'],
      ['TO', 'nl-tok-range'],
      ['499', 'nl-tok-number'],
      [']', 'nl-tok-range'],
    ]);
  });
});

describe('the editor completion source', () => {
  const catalog: Catalog = { fields: [{ name: 'user', types: ['string'] }], values: { user: [{ value: 'Ann Lee', count: 1200 }] } };
  const source = completionSource(() => catalog, { field: 'field', count: (n) => `${n} events` });
  const at = (doc: string, explicit = false) => source(new CompletionContext(EditorState.create({ doc }), doc.length, explicit));

  it('offers field names and values with their counts', () => {
    const fields = at('us')!;
    expect(fields.from).toBe(0);
    expect(fields.options.map((o) => [o.label, o.apply, o.type])).toEqual([['user', 'user:', 'property']]);
    const values = at('x user:')!;
    expect(values.from).toBe(7);
    expect(values.options.map((o) => [o.label, o.apply, o.detail])).toEqual([['Ann Lee', '"Ann Lee"', '1200 events']]);
  });

  it('stays quiet on plain words', () => {
    expect(at('timeout')).toBeNull();
  });
});

describe('server errors as diagnostics', () => {
  it('underline the token at the position, with the message', () => {
    expect(queryDiagnostic('a ) b', 2, 'invalid query: unmatched `)`')).toMatchObject({ from: 2, to: 3, severity: 'error', message: 'invalid query: unmatched `)`' });
    expect(queryDiagnostic('level:error OR', 14, 'expected a term')).toMatchObject({ from: 12, to: 14 });
  });
});
