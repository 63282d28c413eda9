import { describe, expect, it } from 'vitest';
import { type Catalog, completionContext, suggest } from './completion';

const catalog: Catalog = {
  fields: [
    { name: 'http.status', types: ['long'] },
    { name: 'user', types: ['string'] },
    { name: 'latency_ms', types: ['long'] },
  ],
  values: {
    user: [
      { value: 'carol', count: 1014 },
      { value: 'bob', count: 1001 },
      { value: 'John Smith', count: 3 },
    ],
    'http.status': [
      { value: 200, count: 1531 },
      { value: 503, count: 496 },
    ],
    level: [{ value: 'INFO', count: 900 }],
  },
};

const labels = (q: string, pos = q.length, explicit = false) => suggest(q, pos, catalog, explicit)?.options.map((o) => o.label);

describe('completion of field names', () => {
  it('offers catalog and standard fields matching the word being typed', () => {
    expect(labels('us')).toEqual(['user']);
    expect(labels('stat')).toEqual(['http.status']);
    expect(labels('timeout')).toBeUndefined();
    expect(labels('timeout h')).toEqual(['host', 'http.status']);
    const r = suggest('timeout ht', 10, catalog)!;
    expect(r.from).toBe(8);
    expect(r.options[0].apply).toBe('http.status:');
    expect(r.options[0].detail).toBe('long');
  });

  it('offers every field on explicit request at a boundary, nothing unasked', () => {
    expect(labels('a ', 2, true)).toContain('level');
    expect(labels('a ', 2, false)).toBeUndefined();
    expect(labels('(', 1, true)).toContain('user');
  });

  it('does not complete inside phrases or after operators', () => {
    expect(labels('"us')).toBeUndefined();
    expect(completionContext('code:>=4', 8)).toBeNull();
    expect(completionContext('code:[4', 7)).toBeNull();
  });
});

describe('completion of values', () => {
  it('offers top values after a field, by count, quoting where needed', () => {
    const r = suggest('user:', 5, catalog)!;
    expect(r.options.map((o) => o.apply)).toEqual(['carol', 'bob', '"John Smith"']);
    expect(r.from).toBe(5);
    expect(r.options[0].count).toBe(1014);
  });

  it('filters by what is typed, prefixes first, and replaces the whole value', () => {
    const r = suggest('user:jo x', 7, catalog)!;
    expect(r.options.map((o) => o.label)).toEqual(['John Smith']);
    expect([r.from, r.to]).toEqual([5, 7]);
    expect(labels('user:"Jo')).toEqual(['John Smith']);
    expect(labels('user:o')).toEqual(['carol', 'bob', 'John Smith']);
  });

  it('completes numbers and every level', () => {
    expect(labels('http.status:5')).toEqual(['503']);
    expect(labels('level:')).toEqual(['info', 'trace', 'debug', 'warn', 'error', 'fatal']);
    expect(labels('level:er')).toEqual(['error']);
    expect(labels('level:e')).toEqual(['error', 'trace', 'debug']);
  });

  it('replaces a value that follows the cursor', () => {
    const r = suggest('user:bo', 5, catalog)!;
    expect([r.from, r.to]).toEqual([5, 7]);
  });

  it('has nothing for an unknown field', () => {
    expect(labels('nope:')).toBeUndefined();
  });
});
