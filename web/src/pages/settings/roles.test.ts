import { describe, expect, it } from 'vitest';
import { canManage, grantableRoles, isLastOwner, roleOptions } from './roles';

const viewer = { role: 'viewer' as const, isInstanceAdmin: false, canWrite: false };
const editor = { role: 'editor' as const, isInstanceAdmin: false, canWrite: false };
const admin = { role: 'admin' as const, isInstanceAdmin: false, canWrite: true };
const owner = { role: 'owner' as const, isInstanceAdmin: false, canWrite: true };
const instanceAdmin = { role: null, isInstanceAdmin: true, canWrite: true };

describe('grantableRoles', () => {
  it('gives nothing to those without members_write', () => {
    expect(grantableRoles(viewer)).toEqual([]);
    expect(grantableRoles(editor)).toEqual([]);
  });
  it('lets an admin grant up to admin, not owner', () => {
    expect(grantableRoles(admin)).toEqual(['viewer', 'editor', 'admin']);
  });
  it('lets owners and instance admins grant every role', () => {
    expect(grantableRoles(owner)).toEqual(['viewer', 'editor', 'admin', 'owner']);
    expect(grantableRoles(instanceAdmin)).toEqual(['viewer', 'editor', 'admin', 'owner']);
  });
});

describe('canManage', () => {
  it('keeps owners out of an admin’s reach', () => {
    expect(canManage(admin, 'owner')).toBe(false);
    expect(canManage(admin, 'admin')).toBe(true);
    expect(canManage(owner, 'owner')).toBe(true);
    expect(canManage(instanceAdmin, 'owner')).toBe(true);
  });
  it('refuses everything without members_write', () => {
    expect(canManage(viewer, 'viewer')).toBe(false);
  });
});

describe('roleOptions', () => {
  it('keeps the current role listed, in order', () => {
    expect(roleOptions(admin, 'owner')).toEqual(['viewer', 'editor', 'admin', 'owner']);
    expect(roleOptions(admin, 'editor')).toEqual(['viewer', 'editor', 'admin']);
  });
});

describe('isLastOwner', () => {
  it('spots the only owner', () => {
    const m = [
      { user_id: 'a', role: 'owner' as const },
      { user_id: 'b', role: 'admin' as const },
    ];
    expect(isLastOwner(m, 'a')).toBe(true);
    expect(isLastOwner(m, 'b')).toBe(false);
    expect(isLastOwner([...m, { user_id: 'c', role: 'owner' as const }], 'a')).toBe(false);
  });
});
