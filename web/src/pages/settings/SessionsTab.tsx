import { App, Button, Empty, Popconfirm, Space, Table, Tag, Typography } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { ErrorAlert } from '../../components/ErrorAlert';
import { errorText } from '../../components/errors';
import { useFormat } from '../../i18n/format';
import { endSession, listSessions, type SessionRow } from './api';
import { useLoad } from '../../hooks/useLoad';

export function SessionsTab() {
  const { t } = useTranslation('settings');
  const { t: tc } = useTranslation();
  const fmt = useFormat();
  const { message } = App.useApp();
  const sessions = useLoad((s) => listSessions(s), []);
  const rows = [...(sessions.data?.sessions ?? [])].sort((a, b) => Number(b.current) - Number(a.current) || b.created_at.localeCompare(a.created_at));

  const end = async (s: SessionRow) => {
    try {
      await endSession(s.id);
      void message.success(t('sessions.ended'));
      sessions.reload();
    } catch (e) {
      void message.error(errorText(e, tc));
    }
  };

  return (
    <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }}>
        <Typography.Text type="secondary">{t('sessions.hint')}</Typography.Text>
        <Button icon={<ReloadOutlined />} onClick={sessions.reload} aria-label={t('common.refresh')} />
      </Space>
      {sessions.error ? <ErrorAlert error={sessions.error} onRetry={sessions.reload} /> : null}
      <Table<SessionRow>
        rowKey="id"
        size="small"
        loading={sessions.loading}
        dataSource={rows}
        pagination={false}
        locale={{ emptyText: sessions.loading ? ' ' : <Empty description={t('sessions.empty')} /> }}
        columns={[
          {
            title: t('sessions.started'),
            dataIndex: 'created_at',
            render: (v: string, s) => (
              <Space>
                <span title={v}>{fmt.dateTime(v)}</span>
                {s.current && <Tag color="blue">{t('sessions.current')}</Tag>}
              </Space>
            ),
          },
          { title: t('sessions.expires'), dataIndex: 'expires_at', render: (v: string) => <span title={v}>{fmt.dateTime(v)}</span> },
          {
            title: t('common.actions'),
            key: 'actions',
            width: 160,
            render: (_, s) =>
              s.current ? null : (
                <Popconfirm title={t('sessions.endConfirm')} okText={t('sessions.end')} cancelText={t('common.cancel')} okButtonProps={{ danger: true }} onConfirm={() => end(s)}>
                  <Button size="small" danger>
                    {t('sessions.end')}
                  </Button>
                </Popconfirm>
              ),
          },
        ]}
      />
    </Space>
  );
}
