import { useState } from 'react';
import { App, Button, Empty, Form, Input, Modal, Popconfirm, Select, Space, Table, Tag, Typography } from 'antd';
import { DeleteOutlined, EditOutlined, MinusCircleOutlined, PlusOutlined, ReloadOutlined, SendOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../../api';
import { ErrorAlert } from '../../components/ErrorAlert';
import { errorText } from '../../components/errors';
import { CHANNEL_TYPES, createChannel, deleteChannel, listChannels, testChannel, updateChannel, type Channel, type TestAnswer } from './api';
import { channelFieldOf, channelFields, channelTarget, channelToForm, formToChannel, type ChannelFormValues } from './channelForm';
import { useLoad } from '../../hooks/useLoad';

export function ChannelsTab({ project, canWrite }: { project: string; canWrite: boolean }) {
  const { t, i18n } = useTranslation('alerts');
  const { message } = App.useApp();
  const channels = useLoad((signal) => listChannels(project, signal).then((c) => c.channels), [project]);
  const [editing, setEditing] = useState<{ channel?: Channel } | null>(null);
  const [saving, setSaving] = useState(false);
  const [formError, setFormError] = useState<unknown>(null);
  const [testing, setTesting] = useState<string | null>(null);
  const [tested, setTested] = useState<{ channel: Channel; answer?: TestAnswer; error?: unknown } | null>(null);
  const [form] = Form.useForm<ChannelFormValues>();
  const type = Form.useWatch('type', form) ?? 'webhook';
  const fields = channelFields(type);

  const openEditor = (channel?: Channel) => {
    form.resetFields();
    form.setFieldsValue(channelToForm(channel));
    setFormError(null);
    setEditing({ channel });
  };
  const save = async () => {
    let v: ChannelFormValues;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    setSaving(true);
    setFormError(null);
    try {
      const body = formToChannel({ ...form.getFieldsValue(true), ...v });
      const id = editing?.channel?.id;
      const saved = id ? await updateChannel(project, id, body) : await createChannel(project, body);
      message.success(t(id ? 'channels.updated' : 'channels.created', { name: saved.name }));
      setEditing(null);
      channels.reload();
    } catch (e) {
      const field = e instanceof ApiError && e.status === 400 ? channelFieldOf(e.field) : null;
      if (field && e instanceof ApiError) form.setFields([{ name: field, errors: [e.message] }]);
      else setFormError(e);
    } finally {
      setSaving(false);
    }
  };
  const remove = async (c: Channel) => {
    try {
      await deleteChannel(project, c.id);
      message.success(t('channels.deleted', { name: c.name }));
      channels.reload();
    } catch (e) {
      message.error(errorText(e, i18n.t));
    }
  };
  const test = async (c: Channel) => {
    setTesting(c.id);
    try {
      setTested({ channel: c, answer: await testChannel(project, c.id) });
    } catch (e) {
      setTested({ channel: c, error: e });
    } finally {
      setTesting(null);
    }
  };

  if (channels.error && !channels.data) return <ErrorAlert error={channels.error} onRetry={channels.reload} />;

  return (
    <>
      <div style={{ marginBottom: 12, display: "flex", justifyContent: "space-between" }}>
        <Space>
          {canWrite && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => openEditor()}>
              {t('channels.new')}
            </Button>
          )}
          <Button icon={<ReloadOutlined />} onClick={channels.reload} loading={channels.loading}>
            {t('common.refresh')}
          </Button>
        </Space>
      </div>
      <Table<Channel>
        rowKey="id"
        size="middle"
        loading={channels.loading && !channels.data}
        dataSource={channels.data ?? []}
        pagination={false}
        locale={{ emptyText: <Empty description={t('channels.empty')} /> }}
        columns={[
          { title: t('channels.name'), dataIndex: 'name' },
          { title: t('channels.type'), render: (_, c) => <Tag>{t(`channelType.${c.type}`)}</Tag> },
          { title: t('channels.target'), render: (_, c) => <Typography.Text code>{channelTarget(c)}</Typography.Text> },
          ...(canWrite
            ? [
                {
                  title: '',
                  width: 220,
                  render: (_: unknown, c: Channel) => (
                    <Space>
                      <Button size="small" icon={<SendOutlined />} loading={testing === c.id} onClick={() => void test(c)}>
                        {t('channels.test')}
                      </Button>
                      <Button size="small" type="text" icon={<EditOutlined />} aria-label={t('common.edit')} onClick={() => openEditor(c)} />
                      <Popconfirm
                        title={t('channels.deleteConfirm', { name: c.name })}
                        okText={t('common.delete')}
                        cancelText={t('common.cancel')}
                        okButtonProps={{ danger: true }}
                        onConfirm={() => remove(c)}
                      >
                        <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={t('common.delete')} />
                      </Popconfirm>
                    </Space>
                  ),
                },
              ]
            : []),
        ]}
      />
      <Modal
        open={editing !== null}
        title={editing?.channel ? t('channels.editTitle', { name: editing.channel.name }) : t('channels.new')}
        onCancel={() => setEditing(null)}
        onOk={() => void save()}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        confirmLoading={saving}
        forceRender
      >
        {formError !== null && <ErrorAlert error={formError} style={{ marginBottom: 12 }} />}
        <Form form={form} layout="vertical" initialValues={channelToForm()}>
          <Form.Item name="name" label={t('channels.name')} rules={[{ required: true, whitespace: true, message: t('form.required') }]}>
            <Input maxLength={200} />
          </Form.Item>
          <Form.Item name="type" label={t('channels.type')}>
            <Select options={CHANNEL_TYPES.map((c) => ({ value: c, label: t(`channelType.${c}`) }))} />
          </Form.Item>
          {fields.url && (
            <Form.Item name="url" label={t('channels.url')} extra={t(`channelHint.${type}`)} rules={[{ required: true, whitespace: true, message: t('form.required') }]}>
              <Input placeholder="https://" />
            </Form.Item>
          )}
          {fields.secret && (
            <Form.Item name="secret" label={t('channels.secret')} extra={t(type === 'webhook' ? 'channels.secretHintWebhook' : 'channels.secretHint')}>
              <Input.Password autoComplete="new-password" />
            </Form.Item>
          )}
          {fields.to && (
            <Form.Item name="to" label={t('channels.to')} rules={[{ required: true, message: t('form.required') }]} extra={t('channels.toHint')}>
              <Select mode="tags" tokenSeparators={[',', ' ', ';']} open={false} />
            </Form.Item>
          )}
          {fields.headers && (
            <Form.Item label={t('channels.headers')}>
              <Form.List name="headers">
                {(list, { add, remove }) => (
                  <>
                    {list.map((f) => (
                      <Space key={f.key} align="baseline" style={{ display: 'flex' }}>
                        <Form.Item name={[f.name, 'key']} rules={[{ required: true, message: t('form.required') }]}>
                          <Input placeholder={t('channels.headerName')} />
                        </Form.Item>
                        <Form.Item name={[f.name, 'value']}>
                          <Input placeholder={t('channels.headerValue')} />
                        </Form.Item>
                        <MinusCircleOutlined aria-label={t('common.remove')} onClick={() => remove(f.name)} />
                      </Space>
                    ))}
                    <Button type="dashed" size="small" icon={<PlusOutlined />} onClick={() => add({ key: '', value: '' })}>
                      {t('channels.addHeader')}
                    </Button>
                  </>
                )}
              </Form.List>
            </Form.Item>
          )}
        </Form>
      </Modal>
      <Modal
        open={tested !== null}
        title={t('channels.testTitle', { name: tested?.channel.name ?? '' })}
        onCancel={() => setTested(null)}
        footer={<Button onClick={() => setTested(null)}>{t('common.close')}</Button>}
      >
        {tested?.error !== undefined && <ErrorAlert error={tested.error} />}
        {tested?.answer && (
          <Space orientation="vertical" style={{ width: '100%' }} data-testid="channel-test-result">
            <Tag color={tested.answer.ok ? 'success' : 'error'}>{tested.answer.ok ? t('channels.testOk') : t('channels.testFailed')}</Tag>
            <Typography.Text type="secondary">{t('channels.receiverAnswered')}</Typography.Text>
            <Typography.Paragraph code copyable style={{ whiteSpace: 'pre-wrap' }}>
              {tested.answer.detail || '—'}
            </Typography.Paragraph>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t('channels.deliveryId', { id: tested.answer.delivery_id })}
            </Typography.Text>
          </Space>
        )}
      </Modal>
    </>
  );
}
