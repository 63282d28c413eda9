import { useState } from 'react';
import { App, Button, DatePicker, Empty, Form, Input, Modal, Popconfirm, Select, Space, Table, Tag, Typography } from 'antd';
import { DeleteOutlined, MinusCircleOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { useTranslation } from 'react-i18next';
import { ErrorAlert } from '../../components/ErrorAlert';
import { errorText } from '../../components/errors';
import { useFormat } from '../../i18n/format';
import { createSilence, deleteSilence, listRules, listSilences, type Silence } from './api';
import { formToSilence, silenceActive } from './silenceForm';
import type { LabelPair } from './ruleForm';
import { useLoad } from '../../hooks/useLoad';

export function SilencesTab({ project, canWrite }: { project: string; canWrite: boolean }) {
  const { t, i18n } = useTranslation('alerts');
  const fmt = useFormat();
  const { message } = App.useApp();
  const silences = useLoad((signal) => listSilences(project, signal).then((s) => s.silences), [project]);
  const rules = useLoad((signal) => listRules(project, signal).then((r) => r.rules), [project]);
  const [open, setOpen] = useState(false);
  const [saving, setSaving] = useState(false);
  const [form] = Form.useForm<{ rule_id?: string; labels: LabelPair[]; ends_at: Dayjs; comment: string }>();

  const create = async () => {
    let v;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    const body = formToSilence({ ...v, ends_at: v.ends_at.valueOf() });
    if (!body) {
      form.setFields([{ name: 'rule_id', errors: [t('silences.needMatcher')] }]);
      return;
    }
    setSaving(true);
    try {
      await createSilence(project, body);
      message.success(t('silences.created'));
      setOpen(false);
      silences.reload();
    } catch (e) {
      message.error(errorText(e, i18n.t));
    } finally {
      setSaving(false);
    }
  };
  const remove = async (s: Silence) => {
    try {
      await deleteSilence(project, s.id);
      message.success(t('silences.deleted'));
      silences.reload();
    } catch (e) {
      message.error(errorText(e, i18n.t));
    }
  };
  const ruleName = (id: string) => rules.data?.find((r) => r.id === id)?.name ?? id.slice(0, 8);

  if (silences.error && !silences.data) return <ErrorAlert error={silences.error} onRetry={silences.reload} />;
  const now = Date.now();

  return (
    <>
      <div style={{ marginBottom: 12, display: "flex", justifyContent: "space-between" }}>
        <Space>
          {canWrite && (
            <Button
              type="primary"
              icon={<PlusOutlined />}
              onClick={() => {
                form.resetFields();
                form.setFieldsValue({ labels: [], ends_at: dayjs().add(2, 'hour'), comment: '' });
                setOpen(true);
              }}
            >
              {t('silences.new')}
            </Button>
          )}
          <Button icon={<ReloadOutlined />} onClick={silences.reload} loading={silences.loading}>
            {t('common.refresh')}
          </Button>
        </Space>
      </div>
      <Table<Silence>
        rowKey="id"
        size="middle"
        loading={silences.loading && !silences.data}
        dataSource={silences.data ?? []}
        pagination={false}
        locale={{ emptyText: <Empty description={t('silences.empty')} /> }}
        columns={[
          {
            title: t('silences.matchers'),
            render: (_, s) => (
              <Space wrap size={4}>
                {s.matchers.rule_id && <Tag color="blue">{`${t('silences.rule')}: ${ruleName(s.matchers.rule_id)}`}</Tag>}
                {Object.entries(s.matchers.labels ?? {}).map(([k, v]) => (
                  <Tag key={k}>{`${k}=${v}`}</Tag>
                ))}
              </Space>
            ),
          },
          {
            title: t('silences.status'),
            render: (_, s) =>
              silenceActive(s, now) ? <Tag color="processing">{t('silences.active')}</Tag> : Date.parse(s.starts_at) > now ? <Tag>{t('silences.scheduled')}</Tag> : <Tag>{t('silences.expired')}</Tag>,
          },
          { title: t('silences.starts'), render: (_, s) => fmt.dateTime(s.starts_at) },
          { title: t('silences.ends'), render: (_, s) => fmt.dateTime(s.ends_at) },
          { title: t('silences.comment'), render: (_, s) => s.comment || <Typography.Text type="secondary">—</Typography.Text> },
          ...(canWrite
            ? [
                {
                  title: '',
                  width: 60,
                  render: (_: unknown, s: Silence) => (
                    <Popconfirm
                      title={t('silences.deleteConfirm')}
                      okText={t('common.delete')}
                      cancelText={t('common.cancel')}
                      okButtonProps={{ danger: true }}
                      onConfirm={() => remove(s)}
                    >
                      <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={t('common.delete')} />
                    </Popconfirm>
                  ),
                },
              ]
            : []),
        ]}
      />
      <Modal
        open={open}
        title={t('silences.new')}
        onCancel={() => setOpen(false)}
        onOk={() => void create()}
        okText={t('common.create')}
        cancelText={t('common.cancel')}
        confirmLoading={saving}
        destroyOnHidden
      >
        <Form form={form} layout="vertical">
          <Form.Item name="rule_id" label={t('silences.rule')} extra={t('silences.matcherHint')}>
            <Select allowClear options={(rules.data ?? []).map((r) => ({ value: r.id, label: r.name }))} />
          </Form.Item>
          <Form.Item label={t('silences.labels')}>
            <Form.List name="labels">
              {(fields, { add, remove }) => (
                <>
                  {fields.map((f) => (
                    <Space key={f.key} align="baseline" style={{ display: 'flex' }}>
                      <Form.Item name={[f.name, 'key']} rules={[{ required: true, message: t('form.required') }]}>
                        <Input placeholder={t('form.labelKey')} />
                      </Form.Item>
                      <Form.Item name={[f.name, 'value']}>
                        <Input placeholder={t('form.labelValue')} />
                      </Form.Item>
                      <MinusCircleOutlined aria-label={t('common.remove')} onClick={() => remove(f.name)} />
                    </Space>
                  ))}
                  <Button type="dashed" size="small" icon={<PlusOutlined />} onClick={() => add({ key: '', value: '' })}>
                    {t('form.addLabel')}
                  </Button>
                </>
              )}
            </Form.List>
          </Form.Item>
          <Form.Item
            name="ends_at"
            label={t('silences.ends')}
            rules={[
              { required: true, message: t('form.required') },
              { validator: (_, v: Dayjs | undefined) => (!v || v.isAfter(dayjs()) ? Promise.resolve() : Promise.reject(new Error(t('silences.endInPast')))) },
            ]}
          >
            <DatePicker showTime style={{ width: '100%' }} />
          </Form.Item>
          <Form.Item name="comment" label={t('silences.comment')}>
            <Input.TextArea autoSize={{ minRows: 2 }} />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
