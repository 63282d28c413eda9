import { useState } from 'react';
import { Button, Empty, Space, Table, Tag, Typography } from 'antd';
import { LeftOutlined, ReloadOutlined, RightOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { ErrorAlert } from '../../components/ErrorAlert';
import { useFormat } from '../../i18n/format';
import { type AuditEntry, listAudit } from './api';
import { detailText } from './logic';
import { useLoad } from '../../hooks/useLoad';

export const AUDIT_PAGE = 50;

export function AuditTab({ project }: { project: string }) {
  const { t, i18n } = useTranslation('settings');
  const fmt = useFormat();
  // `before` cursors of the pages seen so far (the first page has none).
  const [cursors, setCursors] = useState<number[]>([]);
  const before = cursors[cursors.length - 1];
  const audit = useLoad((s) => listAudit(project, { before, limit: AUDIT_PAGE }, s), [project, before]);
  const rows = audit.data?.entries ?? [];
  const older = rows.length === AUDIT_PAGE ? rows[rows.length - 1].at_micros : null;
  const actionLabel = (a: string) => (i18n.exists(`audit.actions.${a}`, { ns: 'settings' }) ? t(`audit.actions.${a}` as 'audit.actions.auth.login') : a);

  return (
    <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }}>
        <Space>
          <Button size="small" icon={<LeftOutlined />} disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))} aria-label={t('audit.newer')} />
          <Typography.Text type="secondary">{t('audit.page', { page: fmt.number(cursors.length + 1) })}</Typography.Text>
          <Button size="small" icon={<RightOutlined />} disabled={older === null} onClick={() => older !== null && setCursors((c) => [...c, older])} aria-label={t('audit.older')} />
        </Space>
        <Button icon={<ReloadOutlined />} onClick={audit.reload} aria-label={t('common.refresh')} />
      </Space>
      {audit.error ? <ErrorAlert error={audit.error} onRetry={audit.reload} /> : null}
      <Table<AuditEntry>
        rowKey="id"
        size="small"
        loading={audit.loading}
        dataSource={rows}
        pagination={false}
        locale={{ emptyText: audit.loading ? ' ' : <Empty description={t('audit.empty')} /> }}
        columns={[
          { title: t('audit.at'), dataIndex: 'at', width: 210, render: (v: string) => <span title={v}>{fmt.dateTime(v)}</span> },
          { title: t('audit.actor'), key: 'actor', render: (_, e) => <span title={e.actor}>{e.actor_name || e.actor}</span> },
          { title: t('audit.action'), dataIndex: 'action', render: (a: string) => <span title={a}>{actionLabel(a)}</span> },
          { title: t('audit.target'), dataIndex: 'target', ellipsis: true },
          {
            title: t('audit.outcome'),
            dataIndex: 'outcome',
            width: 100,
            render: (o: string) => <Tag color={o === 'success' ? 'green' : 'red'}>{o === 'success' ? t('audit.success') : o === 'failure' ? t('audit.failure') : o}</Tag>,
          },
          { title: t('audit.detail'), dataIndex: 'detail', ellipsis: true, render: (d: unknown) => <Typography.Text type="secondary">{detailText(d)}</Typography.Text> },
          { title: t('audit.ip'), dataIndex: 'ip', width: 130 },
        ]}
      />
    </Space>
  );
}
