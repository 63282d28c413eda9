// The project's dashboards (yours and the shared ones): open, create, import, export, delete.

import { useState } from 'react';
import { App, Button, Empty, Form, Input, Modal, Popconfirm, Space, Switch, Table, Tag, Tooltip, Typography } from 'antd';
import { DeleteOutlined, DownloadOutlined, ImportOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { ErrorAlert } from '../../components/ErrorAlert';
import { errorText } from '../../components/errors';
import { isMine, mayChange } from '../../documents';
import { useLoad } from '../../hooks/useLoad';
import { useFormat } from '../../i18n/format';
import { useSession } from '../../session';
import { createDashboard, deleteDashboard, exportDashboard, listDashboards, type Dashboard } from './api';
import { downloadJson } from './download';
import { ImportModal } from './ImportModal';
import { exportFileName } from './model';

interface NewForm {
  name: string;
  description?: string;
  shared: boolean;
}

export function DashboardList({ project }: { project: string }) {
  const { t, i18n } = useTranslation('dashboards');
  const fmt = useFormat();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const session = useSession();
  const caller = { userId: session.me?.user.id, isAdmin: !!session.me?.user.is_admin, role: session.role, can: session.can };
  const canWrite = session.can('dashboards_write');
  const list = useLoad((signal) => listDashboards(project, signal), [project]);
  const [creating, setCreating] = useState(false);
  const [importing, setImporting] = useState(false);
  const [busy, setBusy] = useState(false);
  const [createError, setCreateError] = useState<unknown>(null);
  const [form] = Form.useForm<NewForm>();

  const create = async () => {
    let v: NewForm;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    setCreateError(null);
    try {
      const d = await createDashboard(project, { name: v.name.trim(), description: v.description?.trim() || undefined, shared: v.shared, widgets: [] });
      message.success(t('list.created', { name: d.name }));
      navigate(`/dashboards/${encodeURIComponent(d.id)}`);
    } catch (e) {
      setCreateError(e);
    } finally {
      setBusy(false);
    }
  };

  const remove = async (d: Dashboard) => {
    try {
      await deleteDashboard(project, d.id);
      message.success(t('list.deleted', { name: d.name }));
      list.reload();
    } catch (e) {
      message.error(errorText(e, i18n.t));
    }
  };

  const download = async (d: Dashboard) => {
    try {
      downloadJson(exportFileName(d.name), await exportDashboard(project, d.id));
    } catch (e) {
      message.error(errorText(e, i18n.t));
    }
  };

  return (
    <div className="nl-page">
      <div className="nl-page-head">
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('title')}
        </Typography.Title>
        <Space>
          {canWrite && (
            <Button
              type="primary"
              icon={<PlusOutlined />}
              data-testid="dashboard-new"
              onClick={() => {
                form.resetFields();
                setCreateError(null);
                setCreating(true);
              }}
            >
              {t('list.new')}
            </Button>
          )}
          {canWrite && (
            <Button icon={<ImportOutlined />} onClick={() => setImporting(true)} data-testid="dashboard-import">
              {t('list.import')}
            </Button>
          )}
          <Button icon={<ReloadOutlined />} onClick={list.reload} loading={list.loading && !!list.data}>
            {t('common.refresh')}
          </Button>
        </Space>
      </div>
      {list.error !== null && <ErrorAlert error={list.error} onRetry={list.reload} style={{ marginBottom: 12 }} />}
      <Table<Dashboard>
        rowKey="id"
        size="middle"
        loading={list.loading && !list.data}
        dataSource={list.data ?? []}
        pagination={false}
        data-testid="dashboard-list"
        locale={{ emptyText: <Empty description={canWrite ? t('list.emptyWrite') : t('list.empty')} /> }}
        columns={[
          {
            title: t('list.name'),
            dataIndex: 'name',
            render: (name: string, d) => (
              <Space orientation="vertical" size={0}>
                <Link to={`/dashboards/${encodeURIComponent(d.id)}`} data-testid="dashboard-link">
                  {name}
                </Link>
                {d.description && <Typography.Text type="secondary">{d.description}</Typography.Text>}
              </Space>
            ),
          },
          { title: t('list.widgets'), width: 100, align: 'right', render: (_, d) => fmt.number(d.widgets?.length ?? 0) },
          {
            title: t('list.visibility'),
            width: 150,
            render: (_, d) => (
              <Space size={4}>
                <Tag color={d.shared ? 'blue' : 'default'}>{d.shared ? t('list.shared') : t('list.private')}</Tag>
                {isMine(d.owner, caller) && <Tag>{t('list.yours')}</Tag>}
              </Space>
            ),
          },
          { title: t('list.updated'), width: 200, render: (_, d) => fmt.dateTime(d.updated_at, 'short') },
          {
            title: '',
            width: 100,
            render: (_, d) => (
              <Space>
                <Tooltip title={t('list.export')}>
                  <Button size="small" type="text" icon={<DownloadOutlined />} aria-label={t('list.export')} onClick={() => void download(d)} />
                </Tooltip>
                {mayChange(d.owner, caller, 'dashboards_write') && (
                  <Popconfirm
                    title={t('list.deleteConfirm', { name: d.name })}
                    okText={t('common.delete')}
                    cancelText={t('common.cancel')}
                    okButtonProps={{ danger: true }}
                    onConfirm={() => remove(d)}
                  >
                    <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={t('common.delete')} />
                  </Popconfirm>
                )}
              </Space>
            ),
          },
        ]}
      />
      {canWrite && (
        <Modal
          open={creating}
          title={t('list.newTitle')}
          onCancel={() => setCreating(false)}
          onOk={() => void create()}
          okText={t('common.create')}
          cancelText={t('common.cancel')}
          confirmLoading={busy}
          okButtonProps={{ 'data-testid': 'dashboard-create' } as React.ComponentProps<typeof Button>}
          destroyOnHidden
        >
          <Form form={form} layout="vertical" initialValues={{ shared: true }} onFinish={() => void create()}>
            <Form.Item name="name" label={t('settings.name')} rules={[{ required: true, whitespace: true, message: t('common.required') }, { max: 200 }]}>
              <Input autoFocus />
            </Form.Item>
            <Form.Item name="description" label={t('settings.description')}>
              <Input />
            </Form.Item>
            <Form.Item name="shared" label={t('settings.shared')} valuePropName="checked" extra={t('settings.sharedHint')}>
              <Switch />
            </Form.Item>
          </Form>
          {createError !== null && <ErrorAlert error={createError} />}
        </Modal>
      )}
      {canWrite && (
        <ImportModal
          project={project}
          open={importing}
          onClose={() => setImporting(false)}
          onImported={(d) => {
            setImporting(false);
            message.success(t('import.done', { name: d.name }));
            navigate(`/dashboards/${encodeURIComponent(d.id)}`);
          }}
        />
      )}
    </div>
  );
}
