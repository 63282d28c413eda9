// Alerts: rules with their live state, the transition history, silences and channels.

import { Tabs, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { Notice } from '../../components/Notice';
import { useSession } from '../../session';
import './i18n';
import { ChannelsTab } from './ChannelsTab';
import { HistoryTab } from './HistoryTab';
import { RulesTab } from './RulesTab';
import { SilencesTab } from './SilencesTab';

const TABS = ['rules', 'history', 'silences', 'channels'] as const;
type Tab = (typeof TABS)[number];

export default function AlertsPage() {
  const { t } = useTranslation('alerts');
  const session = useSession();
  const [params, setParams] = useSearchParams();
  const tab: Tab = (TABS as readonly string[]).includes(params.get('tab') ?? '') ? (params.get('tab') as Tab) : 'rules';
  const project = session.project;
  if (!project) return <Notice kind="info" title={t('title')}>{t('noProject')}</Notice>;
  const canWrite = session.can('alert_rules_write');
  const props = { project, canWrite };

  return (
    <div style={{ padding: 16 }}>
      <Typography.Title level={4} style={{ marginTop: 0 }}>
        {t('title')}
      </Typography.Title>
      <Tabs
        activeKey={tab}
        onChange={(k) => setParams((p) => {
          const next = new URLSearchParams(p);
          next.set('tab', k);
          return next;
        }, { replace: true })}
        destroyOnHidden
        items={[
          { key: 'rules', label: t('tabs.rules'), children: <RulesTab key={project} {...props} /> },
          { key: 'history', label: t('tabs.history'), children: <HistoryTab key={project} {...props} /> },
          { key: 'silences', label: t('tabs.silences'), children: <SilencesTab key={project} {...props} /> },
          { key: 'channels', label: t('tabs.channels'), children: <ChannelsTab key={project} {...props} /> },
        ]}
      />
    </div>
  );
}
