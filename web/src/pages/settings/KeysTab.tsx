import { useState } from 'react';
import { Alert, App, Button, Checkbox, Empty, Form, Input, InputNumber, Modal, Popconfirm, Space, Table, Tag, Typography } from 'antd';
import { KeyOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { ErrorAlert } from '../../components/ErrorAlert';
import { errorText } from '../../components/errors';
import { useFormat } from '../../i18n/format';
import { type ApiKey, createKey, listKeys, type NewKey, revokeKey, type Scope } from './api';
import { keyStatus } from './logic';
import { Secret } from './Secret';
import { useLoad } from '../../hooks/useLoad';

interface FormValues {
  name: string;
  scopes: Scope[];
  source?: string;
  expires_in_days?: number | null;
}

export function KeysTab({ project, canWrite }: { project: string; canWrite: boolean }) {
  const { t } = useTranslation('settings');
  const { t: tc } = useTranslation();
  const fmt = useFormat();
  const { message } = App.useApp();
  const keys = useLoad((s) => listKeys(project, s), [project]);
  const [creating, setCreating] = useState(false);
  const [busy, setBusy] = useState(false);
  const [createError, setCreateError] = useState<unknown>(null);
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const [form] = Form.useForm<FormValues>();

  const close = () => {
    setCreating(false);
    setCreated(null);
    setCreateError(null);
    form.resetFields();
  };

  const submit = async (v: FormValues) => {
    setBusy(true);
    setCreateError(null);
    try {
      const body: NewKey = { name: v.name.trim(), scopes: v.scopes };
      if (v.source?.trim()) body.source = v.source.trim();
      if (v.expires_in_days) body.expires_in_days = v.expires_in_days;
      const k = await createKey(project, body);
      setCreated({ name: k.name, secret: k.key });
      keys.reload();
    } catch (e) {
      setCreateError(e);
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (k: ApiKey) => {
    try {
      await revokeKey(project, k.id);
      void message.success(t('keys.revokedMessage', { name: k.name }));
      keys.reload();
    } catch (e) {
      void message.error(errorText(e, tc));
    }
  };

  const date = (v: string | null) => (v ? fmt.dateTime(v, 'date') : t('common.never'));
  const rows = keys.data?.api_keys ?? [];

  return (
    <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }}>
        {canWrite ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
            {t('keys.create')}
          </Button>
        ) : (
          <Typography.Text type="secondary">{t('keys.readOnly')}</Typography.Text>
        )}
        <Button icon={<ReloadOutlined />} onClick={keys.reload} aria-label={t('common.refresh')} />
      </Space>
      {keys.error ? <ErrorAlert error={keys.error} onRetry={keys.reload} /> : null}
      <Table<ApiKey>
        rowKey="id"
        size="small"
        loading={keys.loading}
        dataSource={rows}
        pagination={rows.length > 20 ? { pageSize: 20 } : false}
        locale={{ emptyText: keys.loading ? ' ' : <Empty description={t('keys.empty')} /> }}
        columns={[
          {
            title: t('keys.name'),
            dataIndex: 'name',
            render: (name: string, k) => (
              <Space orientation="vertical" size={0}>
                <Typography.Text strong>{name}</Typography.Text>
                {k.source && <Typography.Text type="secondary">{k.source}</Typography.Text>}
              </Space>
            ),
          },
          { title: t('keys.prefix'), dataIndex: 'prefix', render: (p: string) => <Typography.Text code>{p}…</Typography.Text> },
          { title: t('keys.scopes'), dataIndex: 'scopes', render: (s: Scope[]) => s.map((x) => <Tag key={x}>{x}</Tag>) },
          { title: t('keys.created'), dataIndex: 'created_at', render: (v: string) => <span title={v}>{date(v)}</span> },
          { title: t('keys.lastUsed'), dataIndex: 'last_used_at', render: (v: string | null) => <span title={v ?? ''}>{date(v)}</span> },
          { title: t('keys.expiresAt'), dataIndex: 'expires_at', render: (v: string | null) => <span title={v ?? ''}>{date(v)}</span> },
          {
            title: t('keys.status'),
            key: 'status',
            render: (_, k) => {
              const s = keyStatus(k);
              return <Tag color={s === 'active' ? 'green' : s === 'revoked' ? 'red' : 'default'}>{t(`keys.${s}`)}</Tag>;
            },
          },
          ...(canWrite
            ? [
                {
                  title: t('common.actions'),
                  key: 'actions',
                  render: (_: unknown, k: ApiKey) =>
                    keyStatus(k) === 'active' ? (
                      <Popconfirm
                        title={t('keys.revokeConfirm', { name: k.name })}
                        okText={t('keys.revokeOk')}
                        cancelText={t('common.cancel')}
                        okButtonProps={{ danger: true }}
                        onConfirm={() => revoke(k)}
                      >
                        <Button size="small" danger>
                          {t('keys.revoke')}
                        </Button>
                      </Popconfirm>
                    ) : null,
                },
              ]
            : []),
        ]}
      />
      <Modal
        open={creating}
        title={created ? t('keys.secretTitle', { name: created.name }) : t('keys.createTitle')}
        onCancel={close}
        maskClosable={!created}
        footer={
          created ? (
            <Button type="primary" onClick={close}>
              {t('common.done')}
            </Button>
          ) : (
            <Space>
              <Button onClick={close}>{t('common.cancel')}</Button>
              <Button type="primary" loading={busy} onClick={() => form.submit()} icon={<KeyOutlined />}>
                {t('keys.submit')}
              </Button>
            </Space>
          )
        }
        destroyOnHidden
      >
        {created ? (
          <Space orientation="vertical" style={{ width: '100%' }}>
            <Alert type="warning" showIcon title={t('keys.secretWarning')} />
            <Secret value={created.secret} testId="key-secret" label={t('keys.secretTitle', { name: created.name })} />
          </Space>
        ) : (
          <Form<FormValues> form={form} layout="vertical" onFinish={(v) => void submit(v)} initialValues={{ scopes: ['ingest'] }} requiredMark={false}>
            {createError ? <ErrorAlert error={createError} style={{ marginBottom: 16 }} /> : null}
            <Form.Item name="name" label={t('keys.name')} rules={[{ required: true, whitespace: true, max: 100, message: t('keys.nameRequired') }]}>
              <Input autoFocus maxLength={100} />
            </Form.Item>
            <Form.Item name="scopes" label={t('keys.scopes')} rules={[{ required: true, type: 'array', min: 1, message: t('keys.scopesRequired') }]}>
              <Checkbox.Group
                options={[
                  { value: 'ingest', label: t('keys.scope.ingest') },
                  { value: 'read', label: t('keys.scope.read') },
                ]}
              />
            </Form.Item>
            <Form.Item name="source" label={t('keys.source')} extra={t('keys.sourceHint')}>
              <Input maxLength={100} />
            </Form.Item>
            <Form.Item name="expires_in_days" label={t('keys.expires')} extra={t('keys.expiresHint')}>
              <InputNumber min={1} max={3650} precision={0} style={{ width: 160 }} />
            </Form.Item>
          </Form>
        )}
      </Modal>
    </Space>
  );
}
