// The endpoints of the Settings page: members, invitations, API keys, audit log, sessions, password.

import { api, type Role } from '../../api';

const p = (project: string) => `/v1/projects/${encodeURIComponent(project)}`;

export interface Member {
  user_id: string;
  email: string;
  name: string | null;
  role: Role;
  disabled: boolean;
}

export interface Invitation {
  id: string;
  email: string;
  role: Role;
  /** The one-time token, when no mail server is configured (handed over by hand); absent when e-mailed. */
  token?: string;
  /** `email`: the token went to the invitee's mailbox; `inviter`: it is `token`. */
  delivered: 'email' | 'inviter';
  expires_in: number;
}

export type Scope = 'ingest' | 'read';

export interface ApiKey {
  id: string;
  name: string;
  source: string;
  prefix: string;
  scopes: Scope[];
  created_by: string;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
  expires_at: string | null;
}

export interface NewKey {
  name: string;
  scopes: Scope[];
  source?: string;
  expires_in_days?: number;
}

export interface AuditEntry {
  id: string;
  at: string;
  at_micros: number;
  actor: string;
  actor_name: string | null;
  action: string;
  project_id: string | null;
  target: string;
  outcome: string;
  detail: unknown;
  ip: string | null;
}

export interface SessionRow {
  id: string;
  created_at: string;
  expires_at: string;
  current: boolean;
}

export const listMembers = (project: string, signal?: AbortSignal) => api.get<{ members: Member[] }>(`${p(project)}/members`, undefined, signal);
export const setMemberRole = (project: string, userId: string, role: Role) =>
  api.request<{ user_id: string; email: string; role: Role }>('PUT', `${p(project)}/members/${encodeURIComponent(userId)}`, { body: { role } });
export const removeMember = (project: string, userId: string) => api.request<void>('DELETE', `${p(project)}/members/${encodeURIComponent(userId)}`);
export const invite = (project: string, email: string, role: Role) => api.post<Invitation>(`${p(project)}/invitations`, { email, role });

export const listKeys = (project: string, signal?: AbortSignal) => api.get<{ api_keys: ApiKey[] }>(`${p(project)}/api-keys`, undefined, signal);
export const createKey = (project: string, key: NewKey) => api.post<ApiKey & { key: string }>(`${p(project)}/api-keys`, key);
export const revokeKey = (project: string, id: string) => api.request<void>('DELETE', `${p(project)}/api-keys/${encodeURIComponent(id)}`);

export const listAudit = (project: string, params: { before?: number; limit: number }, signal?: AbortSignal) =>
  api.get<{ entries: AuditEntry[] }>(`${p(project)}/audit`, params, signal);

export const listSessions = (signal?: AbortSignal) => api.get<{ sessions: SessionRow[] }>('/v1/auth/sessions', undefined, signal);
export const endSession = (id: string) => api.request<void>('DELETE', `/v1/auth/sessions/${encodeURIComponent(id)}`);
export const changePassword = (current_password: string, new_password: string) =>
  api.request<void>('POST', '/v1/auth/password', { body: { current_password, new_password } });
