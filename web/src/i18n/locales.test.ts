import { describe, expect, it } from 'vitest';
import en from './locales/en.json';
import zh from './locales/zh-CN.json';

/** Leaf keys, with plural suffixes folded (Chinese has only `_other`). */
function keys(obj: object, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    return v && typeof v === 'object' ? keys(v, path) : [path.replace(/_(zero|one|two|few|many|other)$/, '')];
  });
}

function leaves(obj: object): string[] {
  return Object.values(obj).flatMap((v) => (v && typeof v === 'object' ? leaves(v) : [String(v)]));
}

describe('translations', () => {
  it('have the same keys in English and Chinese', () => {
    expect([...new Set(keys(zh))].sort()).toEqual([...new Set(keys(en))].sort());
  });

  it('have no empty string, and Chinese plurals have their `_other` form', () => {
    for (const s of [...leaves(en), ...leaves(zh)]) expect(s.trim()).not.toBe('');
    const flat = (o: object, p = ''): string[] => Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? flat(v, `${p}${k}.`) : [`${p}${k}`]));
    for (const k of flat(en).filter((k) => k.endsWith('_one'))) expect(flat(zh)).toContain(k.replace(/_one$/, '_other'));
  });

  it('keep the same interpolations', () => {
    const vars = (s: string) => [...s.matchAll(/\{\{(\w+)/g)].map((m) => m[1]).sort();
    const get = (o: object, path: string[]): unknown => path.reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], o);
    const flat = (o: object, p: string[] = []): string[][] => Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? flat(v, [...p, k]) : [[...p, k]]));
    for (const path of flat(zh)) {
      const enPath = [...path];
      let source = get(en, enPath);
      if (source === undefined) source = get(en, [...path.slice(0, -1), path[path.length - 1].replace(/_other$/, '_one')]);
      expect(vars(String(get(zh, path))), path.join('.')).toEqual(vars(String(source)));
    }
  });
});
