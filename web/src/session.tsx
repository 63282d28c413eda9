// Who is signed in, the projects they can see, the current project, and what they may do in
// it (the role table of GET /v1/roles; instance admins may do everything).

import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { api, getMe, getProjects, getRoles, logout, type Me, type Permission, type Project, type Role } from './api';

export const PROJECT_KEY = 'nexuslog.project';

export const ALL_PERMISSIONS: Permission[] = [
  'project_read',
  'project_update',
  'project_delete',
  'logs_read',
  'saved_queries_read',
  'saved_queries_write',
  'dashboards_read',
  'dashboards_write',
  'alert_rules_read',
  'alert_rules_write',
  'pipelines_read',
  'pipelines_write',
  'members_read',
  'members_write',
  'api_keys_read',
  'api_keys_write',
  'audit_read',
];

export interface Session {
  status: 'loading' | 'ready' | 'error';
  error?: unknown;
  me?: Me;
  projects: Project[];
  /** The current project's slug (what API paths take), or null when there is none. */
  project: string | null;
  /** The caller's role in the current project (null for an instance admin who is not a member). */
  role: Role | null;
  setProject: (slug: string) => void;
  can: (p: Permission) => boolean;
  reload: () => void;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

function savedProject(): string | null {
  try {
    return localStorage.getItem(PROJECT_KEY);
  } catch {
    return null;
  }
}

/** The permissions of a user in a project. */
export function permissionsOf(
  user: { is_admin: boolean } | undefined,
  role: Role | null,
  table: { role: Role; permissions: Permission[] }[],
): Set<Permission> {
  if (user?.is_admin) return new Set(ALL_PERMISSIONS);
  if (!role) return new Set();
  return new Set(table.find((r) => r.role === role)?.permissions ?? []);
}

export function SessionProvider({ children, onSignedOut }: { children: ReactNode; onSignedOut: () => void }) {
  const [status, setStatus] = useState<Session['status']>('loading');
  const [error, setError] = useState<unknown>();
  const [me, setMe] = useState<Me>();
  const [projects, setProjects] = useState<Project[]>([]);
  const [roles, setRoles] = useState<{ role: Role; permissions: Permission[] }[]>([]);
  const [project, setProjectState] = useState<string | null>(savedProject);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    setStatus('loading');
    Promise.all([getMe(ctl.signal), getProjects(ctl.signal), getRoles(ctl.signal)])
      .then(([m, p, r]) => {
        setMe(m);
        setProjects(p.projects);
        setRoles(r.roles);
        setProjectState((current) => {
          if (current && p.projects.some((x) => x.slug === current)) return current;
          return p.projects[0]?.slug ?? null;
        });
        setStatus('ready');
      })
      .catch((e: unknown) => {
        if (ctl.signal.aborted) return;
        setError(e);
        setStatus('error');
      });
    return () => ctl.abort();
  }, [generation]);

  const setProject = useCallback((slug: string) => {
    setProjectState(slug);
    try {
      localStorage.setItem(PROJECT_KEY, slug);
    } catch {
      // not remembered
    }
  }, []);

  const role = useMemo<Role | null>(() => {
    const p = projects.find((x) => x.slug === project);
    return p?.role ?? me?.projects.find((x) => x.slug === project)?.role ?? null;
  }, [projects, project, me]);

  const permissions = useMemo(() => permissionsOf(me?.user, role, roles), [me, role, roles]);
  const can = useCallback((p: Permission) => permissions.has(p), [permissions]);

  const signOut = useCallback(async () => {
    try {
      await logout();
    } catch {
      api.clearTokens();
    }
    onSignedOut();
  }, [onSignedOut]);

  const value = useMemo<Session>(
    () => ({ status, error, me, projects, project, role, setProject, can, reload: () => setGeneration((g) => g + 1), signOut }),
    [status, error, me, projects, project, role, setProject, can, signOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}
