// Which roles a user may grant, and whose membership they may change: the rules the API enforces
// (members_write is admin and above; only an owner or an instance admin grants, changes or removes
// the owner role), so the page offers only what will succeed.

import type { Role } from '../../api';

export const ROLES: Role[] = ['viewer', 'editor', 'admin', 'owner'];

export function roleRank(r: Role): number {
  return ROLES.indexOf(r);
}

export interface Actor {
  /** The caller's role in the project (null: not a member). */
  role: Role | null;
  isInstanceAdmin: boolean;
  /** members_write in the project. */
  canWrite: boolean;
}

/** The roles the actor may give to someone (in an invitation or a role change). */
export function grantableRoles(actor: Actor): Role[] {
  if (!actor.canWrite) return [];
  const owner = actor.isInstanceAdmin || actor.role === 'owner';
  return owner ? [...ROLES] : ROLES.filter((r) => r !== 'owner');
}

/** Whether the actor may change or remove a member who has `current`. */
export function canManage(actor: Actor, current: Role): boolean {
  if (!actor.canWrite) return false;
  if (current === 'owner') return actor.isInstanceAdmin || actor.role === 'owner';
  return true;
}

/** The roles offered in a member's role select: the grantable ones, plus the current one (shown even if it cannot be granted). */
export function roleOptions(actor: Actor, current: Role): Role[] {
  const g = grantableRoles(actor);
  return g.includes(current) ? g : [...g, current].sort((a, b) => roleRank(a) - roleRank(b));
}

/** True when demoting or removing `member` would leave the project without an owner (the API refuses: 409). */
export function isLastOwner(members: { user_id: string; role: Role }[], userId: string): boolean {
  const owners = members.filter((m) => m.role === 'owner');
  return owners.length === 1 && owners[0].user_id === userId;
}
