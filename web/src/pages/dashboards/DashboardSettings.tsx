// A dashboard's name, description, sharing, default range and refresh, and its variables.

import { useState } from 'react';
import { Button, Checkbox, Col, Drawer, Form, Input, InputNumber, Row, Select, Space, Switch, Typography } from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../../api';
import { ErrorAlert } from '../../components/ErrorAlert';
import { useRangeLabel } from '../../components/TimePicker';
import type { TimeRange } from '../../time/range';
import type { Dashboard } from './api';
import { REFRESH_CHOICES, VARIABLE_NAME } from './model';
import { applySettings, settingsForm, type SettingsForm } from './settingsForm';

export default function DashboardSettings({
  dashboard,
  range,
  onClose,
  onSave,
}: {
  dashboard: Dashboard;
  range: TimeRange;
  onClose: () => void;
  onSave: (d: Dashboard) => Promise<void>;
}) {
  const { t } = useTranslation('dashboards');
  const [form] = Form.useForm<SettingsForm>();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const rangeLabel = useRangeLabel(range);
  const current = useRangeLabel({ from: dashboard.time_range?.from ?? 'now-1h', to: dashboard.time_range?.to ?? 'now' });

  const save = async () => {
    try {
      await form.validateFields();
    } catch {
      return;
    }
    setSaving(true);
    setError(null);
    try {
      await onSave(applySettings(dashboard, form.getFieldsValue(true) as SettingsForm, range));
    } catch (e) {
      if (e instanceof ApiError && e.status === 400 && e.field === 'name') form.setFields([{ name: 'name', errors: [e.message] }]);
      else setError(e);
    } finally {
      setSaving(false);
    }
  };

  return (
    <Drawer
      open
      onClose={onClose}
      size={640}
      title={t('settings.title')}
      destroyOnHidden
      extra={
        <Space>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="primary" loading={saving} onClick={() => void save()} data-testid="settings-save">
            {t('common.save')}
          </Button>
        </Space>
      }
    >
      {error !== null && <ErrorAlert error={error} style={{ marginBottom: 16 }} />}
      <Form form={form} layout="vertical" initialValues={settingsForm(dashboard)}>
        <Form.Item name="name" label={t('settings.name')} rules={[{ required: true, whitespace: true, message: t('common.required') }, { max: 200 }]}>
          <Input />
        </Form.Item>
        <Form.Item name="description" label={t('settings.description')}>
          <Input />
        </Form.Item>
        <Row gutter={12}>
          <Col span={12}>
            <Form.Item name="shared" label={t('settings.shared')} valuePropName="checked" extra={t('settings.sharedHint')}>
              <Switch />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name="refresh" label={t('settings.refresh')}>
              <Select options={REFRESH_CHOICES.map((r) => ({ value: r, label: r ? t('view.every', { interval: r }) : t('view.refreshOff') }))} />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item name="useRange" valuePropName="checked" extra={t('settings.rangeNow', { range: current })}>
          <Checkbox>{t('settings.useRange', { range: rangeLabel })}</Checkbox>
        </Form.Item>
        <Typography.Title level={5}>{t('vars.title')}</Typography.Title>
        <Typography.Paragraph type="secondary">{t('vars.hint')}</Typography.Paragraph>
        <Form.List name="variables">
          {(fields, { add, remove }) => (
            <>
              {fields.map(({ key, name }) => (
                <Row gutter={8} key={key} align="top">
                  <Col span={6}>
                    <Form.Item
                      name={[name, 'name']}
                      rules={[
                        { required: true, message: t('common.required') },
                        { pattern: VARIABLE_NAME, message: t('vars.nameHint') },
                      ]}
                    >
                      <Input prefix="$" placeholder={t('vars.name')} aria-label={t('vars.name')} />
                    </Form.Item>
                  </Col>
                  <Col span={7}>
                    <Form.Item name={[name, 'field']} rules={[{ required: true, whitespace: true, message: t('common.required') }]}>
                      <Input placeholder={t('vars.field')} aria-label={t('vars.field')} />
                    </Form.Item>
                  </Col>
                  <Col span={4}>
                    <Form.Item name={[name, 'size']}>
                      <InputNumber min={1} max={100} placeholder="10" aria-label={t('vars.size')} style={{ width: '100%' }} />
                    </Form.Item>
                  </Col>
                  <Col span={6}>
                    <Form.Item name={[name, 'default']}>
                      <Input placeholder={t('vars.default')} aria-label={t('vars.default')} />
                    </Form.Item>
                  </Col>
                  <Col span={1}>
                    <Button type="text" icon={<MinusCircleOutlined />} aria-label={t('vars.remove')} onClick={() => remove(name)} />
                  </Col>
                </Row>
              ))}
              <Button icon={<PlusOutlined />} onClick={() => add({ name: '', field: '', size: null, default: '' })} disabled={fields.length >= 10} data-testid="var-add">
                {t('vars.add')}
              </Button>
            </>
          )}
        </Form.List>
      </Form>
    </Drawer>
  );
}
