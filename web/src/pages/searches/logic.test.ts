import { describe, expect, it } from 'vitest';
import en from '../../i18n/locales/en/searches.json';
import zh from '../../i18n/locales/zh-CN/searches.json';
import den from '../../i18n/locales/en/dashboards.json';
import dzh from '../../i18n/locales/zh-CN/dashboards.json';
import { exploreUrl, newSearch, rangeOf, searchBody, suggestName } from './logic';

const saved = {
  id: 's1',
  owner: 'user:1',
  created_at: 't',
  updated_at: 't',
  name: 'slow checkout',
  query: 'service:checkout AND latency_ms:>500',
  time_range: { from: 'now-1h' },
  shared: false,
};

describe('saved searches', () => {
  it('open in Explore with their query, range and project', () => {
    const url = new URL(exploreUrl(saved, 'default'), 'http://x');
    expect(url.pathname).toBe('/explore');
    expect(url.searchParams.get('q')).toBe('service:checkout AND latency_ms:>500');
    expect(url.searchParams.get('from')).toBe('now-1h');
    expect(url.searchParams.get('to')).toBe('now');
    expect(url.searchParams.get('project')).toBe('default');
  });

  it('without a range or a query, Explore opens on its defaults', () => {
    const url = new URL(exploreUrl({ query: ' ' }, 'p'), 'http://x');
    expect(url.searchParams.has('q')).toBe(false);
    expect(url.searchParams.get('from')).toBe('now-15m');
    expect(rangeOf({ time_range: { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' } })).toEqual({ from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' });
  });

  it('rename and share send the document back without the server-side fields', () => {
    expect(searchBody(saved, { name: 'renamed', shared: true })).toEqual({
      name: 'renamed',
      query: 'service:checkout AND latency_ms:>500',
      time_range: { from: 'now-1h' },
      shared: true,
    });
  });

  it('a new one from Explore keeps the range as chosen (relative stays relative)', () => {
    expect(newSearch(' errors ', ' level:error ', { from: 'now-15m', to: '' }, true)).toEqual({
      name: 'errors',
      query: 'level:error',
      time_range: { from: 'now-15m', to: 'now' },
      shared: true,
    });
    expect(newSearch('all', '', null, false)).toEqual({ name: 'all', query: '', shared: false });
    expect(suggestName('  a   b ')).toBe('a b');
    expect(suggestName('x'.repeat(80))).toHaveLength(60);
  });
});

/** Leaf keys, plural suffixes folded. */
function keys(obj: object, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    return v && typeof v === 'object' ? keys(v, path) : [path.replace(/_(one|other)$/, '')];
  });
}

describe('translations of the saved searches and dashboards pages', () => {
  it('have the same keys in English and Chinese, none empty', () => {
    expect([...new Set(keys(zh))].sort()).toEqual([...new Set(keys(en))].sort());
    expect([...new Set(keys(dzh))].sort()).toEqual([...new Set(keys(den))].sort());
    const leaves = (o: object): string[] => Object.values(o).flatMap((v) => (v && typeof v === 'object' ? leaves(v) : [String(v)]));
    for (const s of [...leaves(en), ...leaves(zh), ...leaves(den), ...leaves(dzh)]) expect(s.trim()).not.toBe('');
  });
});
