import { useCallback, useEffect, useMemo, useState } from 'react';
import { Button, Dropdown, Layout, Menu, Segmented, Select, Space, Spin, Tag, Tooltip, Typography } from 'antd';
import {
  AlertOutlined,
  ApartmentOutlined,
  CloudUploadOutlined,
  DashboardOutlined,
  LogoutOutlined,
  MoonOutlined,
  SearchOutlined,
  SettingOutlined,
  StarOutlined,
  SunOutlined,
  ThunderboltOutlined,
  UserOutlined,
} from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { Outlet, useLocation, useNavigate, useSearchParams } from 'react-router';
import { type Language, setLanguage } from '../i18n';
import type { Permission } from '../api';
import { usePrefs } from '../prefs';
import { SessionProvider, useSession } from '../session';
import { ErrorAlert } from '../components/ErrorAlert';
import { ErrorBoundary } from '../components/ErrorBoundary';
import { Notice } from '../components/Notice';

interface NavItem {
  path: string;
  key: 'explore' | 'searches' | 'tail' | 'dashboards' | 'alerts' | 'pipelines' | 'onboarding' | 'settings';
  icon: React.ReactNode;
  /** Shown only to roles with this permission in the current project. */
  needs?: Permission;
}

export const NAV: NavItem[] = [
  { path: '/explore', key: 'explore', icon: <SearchOutlined />, needs: 'logs_read' },
  { path: '/searches', key: 'searches', icon: <StarOutlined />, needs: 'saved_queries_read' },
  { path: '/tail', key: 'tail', icon: <ThunderboltOutlined />, needs: 'logs_read' },
  { path: '/dashboards', key: 'dashboards', icon: <DashboardOutlined />, needs: 'dashboards_read' },
  { path: '/alerts', key: 'alerts', icon: <AlertOutlined />, needs: 'alert_rules_read' },
  { path: '/pipelines', key: 'pipelines', icon: <ApartmentOutlined />, needs: 'pipelines_read' },
  { path: '/onboarding', key: 'onboarding', icon: <CloudUploadOutlined />, needs: 'api_keys_write' },
  { path: '/settings', key: 'settings', icon: <SettingOutlined /> },
];

function Shell() {
  const { t, i18n } = useTranslation();
  const { theme, setTheme } = usePrefs();
  const session = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [params, setParams] = useSearchParams();
  const [collapsed, setCollapsed] = useState(false);

  // A shared link names its project: switch to it when it is one of ours.
  const linked = params.get('project');
  useEffect(() => {
    if (session.status !== 'ready' || !linked || linked === session.project) return;
    if (session.projects.some((p) => p.slug === linked)) session.setProject(linked);
  }, [linked, session]);

  const visible = useMemo(() => NAV.filter((n) => !n.needs || session.can(n.needs)), [session]);
  const current = NAV.find((n) => location.pathname.startsWith(n.path));

  const onProject = useCallback(
    (slug: string) => {
      session.setProject(slug);
      if (params.has('project')) {
        const next = new URLSearchParams(params);
        next.set('project', slug);
        setParams(next, { replace: true });
      }
    },
    [session, params, setParams],
  );

  if (session.status === 'loading' && !session.me) {
    return (
      <div className="nl-center">
        <Spin size="large" />
      </div>
    );
  }
  if (session.status === 'error') {
    return (
      <div className="nl-center" style={{ padding: 24 }}>
        <ErrorAlert error={session.error} onRetry={session.reload} style={{ maxWidth: 560 }} />
      </div>
    );
  }

  const user = session.me?.user;
  let content: React.ReactNode = <Outlet />;
  if (!session.project) {
    content = <Notice kind="info" title={t('header.noProjects')} />;
  } else if (current?.needs && !session.can(current.needs)) {
    content = (
      <Notice kind="forbidden" title={t('errors.forbiddenPage')}>
        {t('errors.forbiddenPageHint')}
      </Notice>
    );
  }

  return (
    <Layout className="nl-shell">
      <Layout.Sider collapsible collapsed={collapsed} onCollapse={setCollapsed} width={200} breakpoint="lg" theme={theme === 'dark' ? 'dark' : 'light'} className="nl-sider">
        <div className="nl-brand" title="NexusLog">
          <img src="/favicon.svg" alt="" width={24} height={24} />
          {!collapsed && <span>{t('app.name')}</span>}
        </div>
        <Menu
          mode="inline"
          theme={theme === 'dark' ? 'dark' : 'light'}
          selectedKeys={current ? [current.key] : []}
          items={visible.map((n) => ({ key: n.key, icon: n.icon, label: t(`nav.${n.key}`), onClick: () => navigate(n.path) }))}
        />
      </Layout.Sider>
      <Layout>
        <Layout.Header className="nl-header">
          <Space size="middle" wrap={false}>
            <Typography.Text type="secondary">{t('header.project')}</Typography.Text>
            <Select
              aria-label={t('header.project')}
              style={{ minWidth: 180 }}
              value={session.project ?? undefined}
              placeholder={t('header.noProjects')}
              onChange={onProject}
              showSearch={{ optionFilterProp: 'label' }}
              options={session.projects.map((p) => ({ value: p.slug, label: p.name || p.slug }))}
            />
            {session.role && <Tag>{t(`roles.${session.role}`)}</Tag>}
          </Space>
          <Space size="middle">
            <Segmented<Language>
              aria-label={t('header.language')}
              size="small"
              value={i18n.language as Language}
              onChange={(v) => setLanguage(v)}
              options={[
                { value: 'en', label: 'EN' },
                { value: 'zh-CN', label: '中文' },
              ]}
            />
            <Tooltip title={theme === 'dark' ? t('header.lightTheme') : t('header.darkTheme')}>
              <Button
                type="text"
                aria-label={theme === 'dark' ? t('header.lightTheme') : t('header.darkTheme')}
                icon={theme === 'dark' ? <SunOutlined /> : <MoonOutlined />}
                onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
              />
            </Tooltip>
            <Dropdown
              trigger={['click']}
              menu={{
                items: [
                  {
                    key: 'who',
                    disabled: true,
                    label: (
                      <div>
                        <div>{user?.name || user?.email}</div>
                        <Typography.Text type="secondary">{user?.email}</Typography.Text>
                        {user?.is_admin && (
                          <div>
                            <Tag color="gold" style={{ marginTop: 4 }}>
                              {t('header.instanceAdmin')}
                            </Tag>
                          </div>
                        )}
                      </div>
                    ),
                  },
                  { type: 'divider' },
                  { key: 'signout', icon: <LogoutOutlined />, label: t('header.signOut'), onClick: () => void session.signOut() },
                ],
              }}
            >
              <Button type="text" icon={<UserOutlined />} aria-label={t('header.account')}>
                <span className="nl-hide-narrow">{user?.name || user?.email}</span>
              </Button>
            </Dropdown>
          </Space>
        </Layout.Header>
        <Layout.Content className="nl-content">
          <ErrorBoundary resetKey={location.pathname}>{content}</ErrorBoundary>
        </Layout.Content>
      </Layout>
    </Layout>
  );
}

export default function AppLayout() {
  const navigate = useNavigate();
  const onSignedOut = useCallback(() => navigate('/login', { replace: true }), [navigate]);
  return (
    <SessionProvider onSignedOut={onSignedOut}>
      <Shell />
    </SessionProvider>
  );
}
