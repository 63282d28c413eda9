import type { Permission } from '../../api';

export type SettingsTab = 'members' | 'keys' | 'audit' | 'sessions' | 'password';

const NEEDS: [SettingsTab, Permission | null][] = [
  ['members', 'members_read'],
  ['keys', 'api_keys_read'],
  ['audit', 'audit_read'],
  ['sessions', null],
  ['password', null],
];

/** The tabs a role may open, in order (your sessions and password: everyone). */
export function visibleTabs(can: (p: Permission) => boolean): SettingsTab[] {
  return NEEDS.filter(([, p]) => p === null || can(p)).map(([k]) => k);
}
