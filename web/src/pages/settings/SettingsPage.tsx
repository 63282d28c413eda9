// Settings: members and roles, invitations, API keys, the project's audit log, your sessions and
// password. Tabs and controls a role may not use are not shown (permissions from the session);
// a 403 the server still answers shows as a readable message.
import './i18n';
import { Tabs, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { useSession } from '../../session';
import { AuditTab } from './AuditTab';
import { KeysTab } from './KeysTab';
import { MembersTab } from './MembersTab';
import { PasswordTab } from './PasswordTab';
import { SessionsTab } from './SessionsTab';
import { visibleTabs, type SettingsTab } from './tabs';

export default function SettingsPage() {
  const { t } = useTranslation('settings');
  const session = useSession();
  const project = session.project!;
  const [params, setParams] = useSearchParams();
  const tabs = visibleTabs(session.can);
  const asked = params.get('tab') as SettingsTab | null;
  const active = asked && tabs.includes(asked) ? asked : tabs[0];
  const actor = { role: session.role, isInstanceAdmin: !!session.me?.user.is_admin, canWrite: session.can('members_write') };

  const content: Record<SettingsTab, React.ReactNode> = {
    members: <MembersTab project={project} actor={actor} />,
    keys: <KeysTab project={project} canWrite={session.can('api_keys_write')} />,
    audit: <AuditTab project={project} />,
    sessions: <SessionsTab />,
    password: <PasswordTab />,
  };

  return (
    <div className="nl-page" style={{ padding: 16 }}>
      <Typography.Title level={4} style={{ marginTop: 0 }}>
        {t('title')}
      </Typography.Title>
      <Tabs
        activeKey={active}
        onChange={(k) => {
          const next = new URLSearchParams(params);
          next.set('tab', k);
          setParams(next, { replace: true });
        }}
        destroyOnHidden
        items={tabs.map((k) => ({ key: k, label: t(`tabs.${k}`), children: <div key={`${k}:${project}`}>{content[k]}</div> }))}
      />
    </div>
  );
}
