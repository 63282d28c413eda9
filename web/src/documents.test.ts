import { describe, expect, it } from 'vitest';
import { isMine, mayChange } from './documents';

const can = (...ps: string[]) => (p: string) => ps.includes(p);

describe('document ownership', () => {
  it('the owner with the write permission changes it, others only as admins', () => {
    const editor = { userId: 'u1', isAdmin: false, role: 'editor' as const, can: can('dashboards_write') };
    expect(mayChange('user:u1', editor, 'dashboards_write')).toBe(true);
    expect(mayChange('user:u2', editor, 'dashboards_write')).toBe(false);
    expect(mayChange('user:u2', { ...editor, role: 'admin' }, 'dashboards_write')).toBe(true);
    expect(mayChange('user:u2', { ...editor, role: null, isAdmin: true }, 'dashboards_write')).toBe(true);
  });
  it('without the write permission nobody changes it, not even its owner', () => {
    const viewer = { userId: 'u1', isAdmin: false, role: 'viewer' as const, can: can('dashboards_read') };
    expect(mayChange('user:u1', viewer, 'dashboards_write')).toBe(false);
    expect(isMine('user:u1', viewer)).toBe(true);
    expect(isMine('key:abc', viewer)).toBe(false);
    expect(isMine('user:u1', {})).toBe(false);
  });
});
