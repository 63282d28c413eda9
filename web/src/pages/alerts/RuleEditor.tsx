// Create or edit a rule: the form, and beside it the chart of its aggregation with the threshold.

import { useEffect, useMemo, useState } from 'react';
import { App, Button, Col, Drawer, Form, Input, InputNumber, Row, Select, Space, Switch, Typography } from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { ApiError, getFields } from '../../api';
import { QueryEditor, type QueryError } from '../../components/QueryEditor';
import { ErrorAlert } from '../../components/ErrorAlert';
import type { Catalog } from '../../query/completion';
import { AGG_KINDS, createRule, OPS, SEVERITIES, updateRule, type Channel, type Rule } from './api';
import { durationMs, formFieldOf, formToRule, queryErrorPosition, ruleToForm, type RuleFormValues } from './ruleForm';
import { RuleChart, type ChartInput } from './RuleChart';

const DURATION = /^\d+[smhdw]$/;
const MESSAGE_VARS = ['rule', 'state', 'value', 'threshold', 'op', 'aggregation', 'group', 'severity', 'window_start', 'window_end'];

export function RuleEditor({
  project,
  rule,
  open,
  channels,
  onClose,
  onSaved,
}: {
  project: string;
  /** The rule to edit; undefined: a new one. */
  rule: Rule | undefined;
  open: boolean;
  channels: Channel[];
  onClose: () => void;
  onSaved: (r: Rule) => void;
}) {
  const { t } = useTranslation('alerts');
  const { message } = App.useApp();
  const [form] = Form.useForm<RuleFormValues>();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [queryError, setQueryError] = useState<QueryError | null>(null);
  const [catalog, setCatalog] = useState<Catalog | undefined>();

  useEffect(() => {
    if (!open) return;
    form.resetFields();
    form.setFieldsValue(ruleToForm(rule));
    setError(null);
    setQueryError(null);
  }, [open, rule, form]);

  useEffect(() => {
    if (!open) return;
    const ctl = new AbortController();
    getFields(project, null, ctl.signal)
      .then((f) => setCatalog({ fields: f.fields.map((x) => ({ name: x.name, types: x.types })), values: {} }))
      .catch(() => undefined);
    return () => ctl.abort();
  }, [open, project]);

  const values = Form.useWatch([], form) as RuleFormValues | undefined;
  const aggKind = values?.aggKind ?? 'count';
  const kind = values?.kind ?? 'threshold';
  const windowMs = durationMs(values?.window);
  const chartInput = useMemo<ChartInput | null>(() => {
    if (!values || !windowMs) return null;
    return {
      query: values.query ?? '',
      windowMs,
      aggKind: values.aggKind,
      aggField: values.aggField ?? '',
      groupBy: (values.group_by ?? []).filter(Boolean),
      kind: values.kind,
      op: values.op,
      threshold: typeof values.threshold === 'number' ? values.threshold : null,
    };
  }, [values, windowMs]);

  const save = async () => {
    let v: RuleFormValues;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    setSaving(true);
    setError(null);
    setQueryError(null);
    try {
      const body = formToRule({ ...form.getFieldsValue(true), ...v });
      const saved = rule ? await updateRule(project, rule.id, body) : await createRule(project, body);
      message.success(t(rule ? 'rules.updated' : 'rules.created', { name: saved.name }));
      onSaved(saved);
    } catch (e) {
      const field = e instanceof ApiError && e.status === 400 ? formFieldOf(e.field) : null;
      if (field === 'query' && e instanceof ApiError) {
        setQueryError({
          message: e.message.replace(/^query:\s*/, '').replace(/\s*\(at character \d+\)\s*$/, ''),
          position: e.position ?? queryErrorPosition(e.message),
        });
      } else if (field && e instanceof ApiError) {
        form.setFields([{ name: field, errors: [e.message] }]);
        form.scrollToField(field);
      } else {
        setError(e);
      }
    } finally {
      setSaving(false);
    }
  };

  const durationRule = (required: boolean) => ({
    validator: (_: unknown, v: string) =>
      (!v && !required) || DURATION.test((v ?? '').trim()) ? Promise.resolve() : Promise.reject(new Error(t('form.durationHint'))),
  });

  return (
    <Drawer
      open={open}
      onClose={onClose}
      size={Math.min(1200, typeof window !== 'undefined' ? window.innerWidth * 0.95 : 1200)}
      title={rule ? t('rules.editTitle', { name: rule.name }) : t('rules.newTitle')}
      destroyOnHidden
      extra={
        <Space>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="primary" loading={saving} onClick={() => void save()} data-testid="rule-save">
            {t('common.save')}
          </Button>
        </Space>
      }
    >
      {error !== null && <ErrorAlert error={error} style={{ marginBottom: 16 }} />}
      <Row gutter={24}>
        <Col xs={24} lg={13}>
          <Form form={form} layout="vertical" requiredMark="optional" initialValues={ruleToForm(rule)}>
            <Form.Item name="name" label={t('form.name')} rules={[{ required: true, whitespace: true, message: t('form.required') }]}>
              <Input maxLength={200} />
            </Form.Item>
            <Form.Item name="query" label={t('form.query')} extra={t('form.queryHint')}>
              <QueryEditor
                value=""
                onRun={() => undefined}
                catalog={catalog}
                error={queryError}
                placeholder={t('form.queryPlaceholder')}
              />
            </Form.Item>
            <Row gutter={12}>
              <Col span={8}>
                <Form.Item name="kind" label={t('form.kind')}>
                  <Select options={(['threshold', 'absence'] as const).map((k) => ({ value: k, label: t(`kind.${k}`) }))} />
                </Form.Item>
              </Col>
              <Col span={8}>
                <Form.Item name="window" label={t('form.window')} rules={[{ required: true, message: t('form.required') }, durationRule(true)]}>
                  <Input placeholder="5m" />
                </Form.Item>
              </Col>
              <Col span={8}>
                <Form.Item name="every" label={t('form.every')} rules={[durationRule(false)]} tooltip={t('form.everyHint')}>
                  <Input placeholder={t('form.sameAsWindow')} />
                </Form.Item>
              </Col>
            </Row>
            {kind === 'threshold' && (
              <>
                <Row gutter={12}>
                  <Col span={10}>
                    <Form.Item name="aggKind" label={t('form.aggregation')}>
                      <Select options={AGG_KINDS.map((a) => ({ value: a, label: t(`agg.${a}`) }))} />
                    </Form.Item>
                  </Col>
                  <Col span={14}>
                    <Form.Item
                      name="aggField"
                      label={t('form.field')}
                      rules={aggKind === 'count' ? [] : [{ required: true, whitespace: true, message: t('form.fieldRequired') }]}
                    >
                      <Input disabled={aggKind === 'count'} placeholder={aggKind === 'count' ? '' : 'latency_ms'} />
                    </Form.Item>
                  </Col>
                </Row>
                <Row gutter={12}>
                  <Col span={8}>
                    <Form.Item name="op" label={t('form.op')}>
                      <Select options={OPS.map((o) => ({ value: o, label: o }))} />
                    </Form.Item>
                  </Col>
                  <Col span={8}>
                    <Form.Item name="threshold" label={t('form.threshold')} rules={[{ required: true, message: t('form.required') }]}>
                      <InputNumber style={{ width: '100%' }} />
                    </Form.Item>
                  </Col>
                  <Col span={8}>
                    <Form.Item name="for" label={t('form.for')} rules={[durationRule(false)]} tooltip={t('form.forHint')}>
                      <Input placeholder="0s" />
                    </Form.Item>
                  </Col>
                </Row>
              </>
            )}
            {kind === 'absence' && (
              <Row gutter={12}>
                <Col span={8}>
                  <Form.Item name="for" label={t('form.for')} rules={[durationRule(false)]} tooltip={t('form.forHint')}>
                    <Input placeholder="0s" />
                  </Form.Item>
                </Col>
              </Row>
            )}
            <Form.Item name="group_by" label={t('form.groupBy')} extra={t('form.groupByHint')}>
              <Select
                mode="tags"
                maxCount={5}
                tokenSeparators={[',', ' ']}
                options={(catalog?.fields ?? []).map((f) => ({ value: f.name, label: f.name }))}
              />
            </Form.Item>
            <Row gutter={12}>
              <Col span={8}>
                <Form.Item name="severity" label={t('form.severity')}>
                  <Select options={SEVERITIES.map((s) => ({ value: s, label: t(`severity.${s}`) }))} />
                </Form.Item>
              </Col>
              <Col span={16}>
                <Form.Item name="channels" label={t('form.channels')}>
                  <Select
                    mode="multiple"
                    allowClear
                    notFoundContent={t('channels.empty')}
                    options={channels.map((c) => ({ value: c.id, label: `${c.name} (${t(`channelType.${c.type}`)})` }))}
                  />
                </Form.Item>
              </Col>
            </Row>
            <Form.Item label={t('form.labels')}>
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
            <Form.Item name="message" label={t('form.message')} extra={t('form.messageHint', { list: MESSAGE_VARS.map((v) => `{{${v}}}`).join(', ') })}>
              <Input.TextArea autoSize={{ minRows: 2, maxRows: 6 }} placeholder="{{rule}} on {{group}}: {{value}} {{op}} {{threshold}}" />
            </Form.Item>
            <Row gutter={12}>
              <Col span={12}>
                <Form.Item name="allowed_lateness" label={t('form.lateness')} rules={[durationRule(false)]} tooltip={t('form.latenessHint')}>
                  <Input placeholder="30s" />
                </Form.Item>
              </Col>
              <Col span={12}>
                <Form.Item name="enabled" label={t('form.enabled')} valuePropName="checked">
                  <Switch />
                </Form.Item>
              </Col>
            </Row>
          </Form>
        </Col>
        <Col xs={24} lg={11}>
          <div style={{ position: 'sticky', top: 0 }}>
            <Typography.Title level={5}>{t('chart.title')}</Typography.Title>
            {chartInput ? <RuleChart project={project} input={chartInput} /> : <Typography.Text type="secondary">{t('chart.needsWindow')}</Typography.Text>}
          </div>
        </Col>
      </Row>
    </Drawer>
  );
}
