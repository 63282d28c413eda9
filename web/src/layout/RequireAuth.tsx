import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { api } from '../api';

/** Signed-out visitors go to sign-in, keeping the page they asked for. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const location = useLocation();
  if (!api.signedIn) {
    const next = location.pathname + location.search + location.hash;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return <>{children}</>;
}
