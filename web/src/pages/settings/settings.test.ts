import { describe, expect, it } from 'vitest';
import en from '../../i18n/locales/en/settings.json';
import zh from '../../i18n/locales/zh-CN/settings.json';
import type { Permission } from '../../api';
import type { ApiKey } from './api';
import { detailText, keyStatus } from './logic';
import { visibleTabs } from './tabs';

function keys(obj: object, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

describe('settings translations', () => {
  it('have the same keys in English and Chinese, none empty', () => {
    expect(keys(zh).sort()).toEqual(keys(en).sort());
    const leaves = (o: object): string[] => Object.values(o).flatMap((v) => (v && typeof v === 'object' ? leaves(v) : [String(v)]));
    for (const s of [...leaves(en), ...leaves(zh)]) expect(s.trim()).not.toBe('');
  });
});

describe('visibleTabs', () => {
  const can = (ps: Permission[]) => (p: Permission) => ps.includes(p);
  it('shows a viewer the members (read-only), sessions and password', () => {
    expect(visibleTabs(can(['members_read', 'logs_read']))).toEqual(['members', 'sessions', 'password']);
  });
  it('shows an admin everything', () => {
    expect(visibleTabs(can(['members_read', 'api_keys_read', 'audit_read']))).toEqual(['members', 'keys', 'audit', 'sessions', 'password']);
  });
});

describe('keyStatus', () => {
  const base: ApiKey = { id: '1', name: 'k', source: '', prefix: 'nxl_ab', scopes: ['ingest'], created_by: '', created_at: '2025-01-01T00:00:00Z', revoked_at: null, last_used_at: null, expires_at: null };
  it('tells active, revoked and expired apart', () => {
    const now = Date.parse('2025-06-01T00:00:00Z');
    expect(keyStatus(base, now)).toBe('active');
    expect(keyStatus({ ...base, revoked_at: '2025-02-01T00:00:00Z' }, now)).toBe('revoked');
    expect(keyStatus({ ...base, expires_at: '2025-03-01T00:00:00Z' }, now)).toBe('expired');
    expect(keyStatus({ ...base, expires_at: '2025-09-01T00:00:00Z' }, now)).toBe('active');
  });
});

describe('detailText', () => {
  it('flattens an audit detail', () => {
    expect(detailText({ name: 'ci', scopes: 'ingest', from: null })).toBe('name: ci, scopes: ingest');
    expect(detailText(null)).toBe('');
  });
});
