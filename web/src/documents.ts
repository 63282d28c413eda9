// Saved searches and dashboards are project documents with an owner: who may change one is the
// server's rule (api/src/handlers/documents.rs), mirrored here to hide the controls it would refuse.

import type { Permission, Role } from './api';

/** How the server names a user as a document's owner. */
export const ownerId = (userId: string) => `user:${userId}`;

export interface Caller {
  userId?: string;
  isAdmin: boolean;
  role: Role | null;
  can: (p: Permission) => boolean;
}

/** Yours, or you are a project admin or owner, or an instance admin; and you have the write permission. */
export function mayChange(owner: string, caller: Caller, write: Permission): boolean {
  if (!caller.can(write)) return false;
  if (caller.isAdmin || caller.role === 'owner' || caller.role === 'admin') return true;
  return !!caller.userId && owner === ownerId(caller.userId);
}

export function isMine(owner: string, caller: Pick<Caller, 'userId'>): boolean {
  return !!caller.userId && owner === ownerId(caller.userId);
}
