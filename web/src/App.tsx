import { lazy, Suspense, useEffect, useMemo } from 'react';
import { App as AntApp, ConfigProvider, Spin, theme as antdTheme } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import { useTranslation } from 'react-i18next';
import { createBrowserRouter, Navigate, RouterProvider } from 'react-router';
import { api } from './api';
import { RequireAuth } from './layout/RequireAuth';
import { PrefsProvider, usePrefs } from './prefs';
import { ErrorBoundary } from './components/ErrorBoundary';
import { RouteError } from './components/RouteError';
import './styles.css';

const Login = lazy(() => import('./pages/Login'));
const AppLayout = lazy(() => import('./layout/AppLayout'));
const Explore = lazy(() => import('./pages/explore/ExplorePage'));
const Tail = lazy(() => import('./pages/tail/TailPage'));
const Alerts = lazy(() => import('./pages/alerts/AlertsPage'));
const Pipelines = lazy(() => import('./pages/pipelines/PipelinesPage'));
const Settings = lazy(() => import('./pages/settings/SettingsPage'));
const Onboarding = lazy(() => import('./pages/onboarding/OnboardingPage'));
const Dashboards = lazy(() => import('./pages/dashboards/DashboardsPage'));
const SavedSearches = lazy(() => import('./pages/searches/SavedSearchesPage'));
const NotFound = lazy(() => import('./pages/NotFound'));

function Loading() {
  return (
    <div className="nl-center">
      <Spin size="large" />
    </div>
  );
}

const lazyPage = (node: React.ReactNode) => <Suspense fallback={<Loading />}>{node}</Suspense>;

export const router = createBrowserRouter([
  { path: '/login', element: lazyPage(<Login />), errorElement: <RouteError /> },
  {
    element: (
      <RequireAuth>
        <Suspense fallback={<Loading />}>
          <AppLayout />
        </Suspense>
      </RequireAuth>
    ),
    errorElement: <RouteError />,
    children: [
      { index: true, element: <Navigate to="/explore" replace /> },
      { path: 'explore', element: lazyPage(<Explore />) },
      { path: 'tail', element: lazyPage(<Tail />) },
      { path: 'searches', element: lazyPage(<SavedSearches />) },
      { path: 'dashboards', element: lazyPage(<Dashboards />) },
      { path: 'dashboards/:id', element: lazyPage(<Dashboards />) },
      { path: 'alerts', element: lazyPage(<Alerts />) },
      { path: 'pipelines', element: lazyPage(<Pipelines />) },
      { path: 'onboarding', element: lazyPage(<Onboarding />) },
      { path: 'settings', element: lazyPage(<Settings />) },
      { path: '*', element: lazyPage(<NotFound />) },
    ],
  },
]);

/** The page to come back to after signing in again. */
export function currentPath(): string {
  const { pathname, search, hash } = window.location;
  return pathname.startsWith('/login') ? '/' : pathname + search + hash;
}

api.onSessionExpired = () => {
  if (window.location.pathname.startsWith('/login')) return;
  void router.navigate(`/login?expired=1&next=${encodeURIComponent(currentPath())}`, { replace: true });
};

function Themed() {
  const { theme } = usePrefs();
  const { i18n } = useTranslation();
  const zh = i18n.language === 'zh-CN';
  useEffect(() => {
    dayjs.locale(zh ? 'zh-cn' : 'en');
  }, [zh]);
  const themeConfig = useMemo(
    () => ({
      algorithm: theme === 'dark' ? antdTheme.darkAlgorithm : antdTheme.defaultAlgorithm,
      token: { colorPrimary: '#1668dc', borderRadius: 6 },
    }),
    [theme],
  );
  return (
    <ConfigProvider locale={zh ? zhCN : enUS} theme={themeConfig}>
      <AntApp className="nl-app">
        <ErrorBoundary>
          <RouterProvider router={router} />
        </ErrorBoundary>
      </AntApp>
    </ConfigProvider>
  );
}

export function App() {
  return (
    <PrefsProvider>
      <Themed />
    </PrefsProvider>
  );
}
