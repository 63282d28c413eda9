// The project's pipeline: its rules in order, and a rule's editor (form or JSON) beside the dry run.

import { useEffect, useMemo, useState } from 'react';
import { App, Button, Card, Col, Empty, Form, Input, Popconfirm, Row, Select, Space, Switch, Table, Tabs, Tag, Typography } from 'antd';
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, EditOutlined, MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../../api';
import { ErrorAlert } from '../../components/ErrorAlert';
import { errorText } from '../../components/errors';
import { Notice } from '../../components/Notice';
import { useSession } from '../../session';
import { useLoad } from '../../hooks/useLoad';
import './i18n';
import { createRule, deleteRule, getPipeline, updateRule, type PipelineRule, type RuleSpec } from './api';
import { DryRunPanel } from './DryRunPanel';
import {
  draftPipeline,
  formToSpec,
  moveUpdates,
  parseRuleJson,
  specOf,
  specToForm,
  STEP_TEMPLATES,
  STEP_TYPES,
  stepLabel,
  StepJsonError,
  whenText,
  type RuleForm,
} from './pipeline';

const NEW_RULE: RuleSpec = { name: '', enabled: true, on_error: 'keep', when: {}, steps: [{ parse: { with: 'logfmt' } }] };

function RuleEditor({
  project,
  rule,
  onDraft,
  onClose,
  onSaved,
}: {
  project: string;
  rule: PipelineRule | null;
  onDraft: (spec: RuleSpec | null, error: string | null) => void;
  onClose: () => void;
  onSaved: () => void;
}) {
  const { t } = useTranslation('pipelines');
  const { message } = App.useApp();
  const [form] = Form.useForm<RuleForm>();
  const initial = useMemo(() => (rule ? specOf(rule) : NEW_RULE), [rule]);
  const [mode, setMode] = useState<'form' | 'json'>('form');
  const [json, setJson] = useState(() => JSON.stringify(initial, null, 2));
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    form.setFieldsValue(specToForm(initial));
    setJson(JSON.stringify(initial, null, 2));
    onDraft(initial, null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [initial]);

  const fromForm = (): { spec: RuleSpec } | { error: string } => {
    try {
      return { spec: formToSpec(form.getFieldsValue(true) as RuleForm) };
    } catch (e) {
      return { error: e instanceof StepJsonError ? t('editor.stepJson', { n: e.index + 1, detail: e.message }) : String(e) };
    }
  };
  const current = (): { spec: RuleSpec } | { error: string } => (mode === 'json' ? parseRuleJson(json) : fromForm());

  const switchMode = (next: string) => {
    if (next === mode) return;
    if (next === 'json') {
      const r = fromForm();
      if ('spec' in r) setJson(JSON.stringify(r.spec, null, 2));
      setJsonError('error' in r ? r.error : null);
    } else {
      const r = parseRuleJson(json);
      if ('error' in r) {
        setJsonError(r.error);
        return;
      }
      form.setFieldsValue(specToForm(r.spec));
    }
    setMode(next as 'form' | 'json');
  };

  const save = async () => {
    if (mode === 'form') {
      try {
        await form.validateFields();
      } catch {
        return;
      }
    }
    const r = current();
    if ('error' in r) {
      setError(new Error(r.error));
      return;
    }
    setSaving(true);
    setError(null);
    try {
      if (rule) await updateRule(project, rule.id, r.spec);
      else await createRule(project, r.spec);
      message.success(t(rule ? 'editor.updated' : 'editor.created', { name: r.spec.name }));
      onSaved();
    } catch (e) {
      if (e instanceof ApiError && e.status === 400 && e.field === 'name' && mode === 'form') form.setFields([{ name: 'name', errors: [e.message] }]);
      else setError(e);
    } finally {
      setSaving(false);
    }
  };

  const publish = () => {
    const r = current();
    onDraft('spec' in r ? r.spec : null, 'error' in r ? r.error : null);
  };

  return (
    <Card
      size="small"
      title={rule ? t('editor.editTitle', { name: rule.name }) : t('editor.newTitle')}
      extra={
        <Space>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="primary" loading={saving} onClick={() => void save()} data-testid="pipeline-save">
            {t('common.save')}
          </Button>
        </Space>
      }
    >
      {error !== null && <ErrorAlert error={error} style={{ marginBottom: 12 }} />}
      <Tabs
        activeKey={mode}
        onChange={switchMode}
        items={[
          {
            key: 'form',
            label: t('editor.form'),
            children: (
              <Form form={form} layout="vertical" onValuesChange={publish} requiredMark="optional">
                <Row gutter={12}>
                  <Col span={10}>
                    <Form.Item name="name" label={t('editor.name')} rules={[{ required: true, whitespace: true, message: t('editor.required') }]}>
                      <Input />
                    </Form.Item>
                  </Col>
                  <Col span={9}>
                    <Form.Item name="timezone" label={t('editor.timezone')} tooltip={t('editor.timezoneHint')}>
                      <Input placeholder="UTC" data-testid="rule-timezone" />
                    </Form.Item>
                  </Col>
                </Row>
                <Row gutter={12}>
                  <Col span={10}>
                    <Form.Item name="on_error" label={t('editor.onError')}>
                      <Select options={[{ value: 'keep', label: t('editor.keep') }, { value: 'dead_letter', label: t('editor.deadLetter') }]} />
                    </Form.Item>
                  </Col>
                  <Col span={5}>
                    <Form.Item name="enabled" label={t('editor.enabled')} valuePropName="checked">
                      <Switch />
                    </Form.Item>
                  </Col>
                </Row>
                <Typography.Text strong>{t('editor.when')}</Typography.Text>
                <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginBottom: 8 }}>
                  {t('editor.whenHint')}
                </Typography.Paragraph>
                <Row gutter={12}>
                  <Col span={8}>
                    <Form.Item name="source" label={t('editor.source')}>
                      <Input placeholder="http, syslog, otlp" />
                    </Form.Item>
                  </Col>
                  <Col span={8}>
                    <Form.Item name="host" label={t('editor.host')}>
                      <Input placeholder="web-*" />
                    </Form.Item>
                  </Col>
                  <Col span={8}>
                    <Form.Item name="service" label={t('editor.service')}>
                      <Input placeholder="nginx" />
                    </Form.Item>
                  </Col>
                </Row>
                <Row gutter={12}>
                  <Col span={8}>
                    <Form.Item name="fieldName" label={t('editor.field')}>
                      <Input placeholder="message" />
                    </Form.Item>
                  </Col>
                  <Col span={6}>
                    <Form.Item name="fieldTest" label={t('editor.test')}>
                      <Select options={(['none', 'equals', 'matches', 'exists', 'absent'] as const).map((v) => ({ value: v, label: t(`fieldTest.${v}`) }))} />
                    </Form.Item>
                  </Col>
                  <Col span={10}>
                    <Form.Item name="fieldValue" label={t('editor.value')}>
                      <Input />
                    </Form.Item>
                  </Col>
                </Row>
                <Typography.Text strong>{t('editor.steps')}</Typography.Text>
                <Form.List name="steps">
                  {(fields, { add, remove, move }) => (
                    <>
                      {fields.map((f, i) => (
                        <Card key={f.key} size="small" style={{ marginTop: 8 }}
                          title={
                            <Space>
                              <span>{i + 1}.</span>
                              <Form.Item name={[f.name, 'type']} noStyle>
                                <Select
                                  style={{ width: 140 }}
                                  options={STEP_TYPES.map((s) => ({ value: s, label: s }))}
                                  onChange={(type: keyof typeof STEP_TEMPLATES) => {
                                    form.setFieldValue(['steps', f.name, 'body'], JSON.stringify(STEP_TEMPLATES[type], null, 2));
                                    publish();
                                  }}
                                />
                              </Form.Item>
                            </Space>
                          }
                          extra={
                            <Space size={0}>
                              <Button size="small" type="text" icon={<ArrowUpOutlined />} disabled={i === 0} aria-label={t('common.up')} onClick={() => { move(i, i - 1); publish(); }} />
                              <Button size="small" type="text" icon={<ArrowDownOutlined />} disabled={i === fields.length - 1} aria-label={t('common.down')} onClick={() => { move(i, i + 1); publish(); }} />
                              <Button size="small" type="text" danger icon={<MinusCircleOutlined />} aria-label={t('common.remove')} onClick={() => { remove(f.name); publish(); }} />
                            </Space>
                          }
                        >
                          <Form.Item name={[f.name, 'body']} noStyle>
                            <Input.TextArea autoSize={{ minRows: 2, maxRows: 12 }} spellCheck={false} style={{ fontFamily: 'monospace', fontSize: 12 }} aria-label={t('editor.stepBody', { n: i + 1 })} />
                          </Form.Item>
                        </Card>
                      ))}
                      <Button type="dashed" icon={<PlusOutlined />} style={{ marginTop: 8 }} onClick={() => { add({ type: 'parse', body: JSON.stringify(STEP_TEMPLATES.parse, null, 2) }); publish(); }}>
                        {t('editor.addStep')}
                      </Button>
                      <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginTop: 8 }}>
                        {t('editor.stepsHint')}
                      </Typography.Paragraph>
                    </>
                  )}
                </Form.List>
              </Form>
            ),
          },
          {
            key: 'json',
            label: t('editor.json'),
            children: (
              <>
                <Input.TextArea
                  value={json}
                  onChange={(e) => {
                    setJson(e.target.value);
                    const r = parseRuleJson(e.target.value);
                    setJsonError('error' in r ? r.error : null);
                    onDraft('spec' in r ? r.spec : null, 'error' in r ? r.error : null);
                  }}
                  autoSize={{ minRows: 12, maxRows: 40 }}
                  spellCheck={false}
                  style={{ fontFamily: 'monospace', fontSize: 12 }}
                  aria-label={t('editor.json')}
                  data-testid="pipeline-json"
                />
                {jsonError && <Typography.Text type="danger">{t('editor.invalidJson', { detail: jsonError })}</Typography.Text>}
              </>
            ),
          },
        ]}
      />
    </Card>
  );
}

export default function PipelinesPage() {
  const { t, i18n } = useTranslation('pipelines');
  const { message } = App.useApp();
  const session = useSession();
  const project = session.project;
  const canWrite = session.can('pipelines_write');
  const pipeline = useLoad((signal) => (project ? getPipeline(project, signal) : Promise.resolve({ revision: 0, rules: [] })), [project]);
  const [editing, setEditing] = useState<{ rule: PipelineRule | null } | null>(null);
  const [draft, setDraft] = useState<{ spec: RuleSpec | null; error: string | null }>({ spec: null, error: null });
  const [busy, setBusy] = useState(false);

  useEffect(() => setEditing(null), [project]);
  if (!project) return <Notice kind="info" title={t('title')}>{t('noProject')}</Notice>;
  const rules = pipeline.data?.rules ?? [];

  const move = async (i: number, dir: -1 | 1) => {
    setBusy(true);
    try {
      for (const u of moveUpdates(rules, i, dir)) {
        const r = rules.find((x) => x.id === u.id)!;
        await updateRule(project, r.id, specOf(r), u.position);
      }
    } catch (e) {
      message.error(errorText(e, i18n.t));
    } finally {
      setBusy(false);
      pipeline.reload();
    }
  };
  const remove = async (r: PipelineRule) => {
    try {
      await deleteRule(project, r.id);
      message.success(t('list.deleted', { name: r.name }));
      if (editing?.rule?.id === r.id) setEditing(null);
      pipeline.reload();
    } catch (e) {
      message.error(errorText(e, i18n.t));
    }
  };
  const dryRules = editing ? (draft.spec ? draftPipeline(rules, editing.rule?.id ?? null, draft.spec) : undefined) : undefined;

  return (
    <div style={{ padding: 16 }}>
      <Typography.Title level={4} style={{ marginTop: 0 }}>
        {t('title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('intro')}</Typography.Paragraph>
      {pipeline.error !== null && <ErrorAlert error={pipeline.error} onRetry={pipeline.reload} style={{ marginBottom: 12 }} />}
      <Row gutter={16}>
        <Col xs={24} xl={13}>
          <Space orientation="vertical" style={{ width: '100%' }}>
            {canWrite && !editing && (
              <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing({ rule: null })} data-testid="pipeline-new">
                {t('list.add')}
              </Button>
            )}
            <Table<PipelineRule>
              rowKey="id"
              size="middle"
              loading={(pipeline.loading && !pipeline.data) || busy}
              dataSource={rules}
              pagination={false}
              rowClassName={(r) => (editing?.rule?.id === r.id ? 'ant-table-row-selected' : '')}
              locale={{ emptyText: <Empty description={canWrite ? t('list.emptyWrite') : t('list.empty')} /> }}
              columns={[
                { title: '#', width: 48, render: (_, __, i) => i + 1 },
                {
                  title: t('list.rule'),
                  render: (_, r) => (
                    <Space orientation="vertical" size={0}>
                      <Space size={4}>
                        <Typography.Text strong delete={r.enabled === false}>{r.name}</Typography.Text>
                        {r.enabled === false && <Tag>{t('list.disabled')}</Tag>}
                        {r.on_error === 'dead_letter' && <Tag color="orange">{t('editor.deadLetter')}</Tag>}
                      </Space>
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {whenText(r.when) ?? t('list.everyRecord')}
                      </Typography.Text>
                    </Space>
                  ),
                },
                { title: t('list.steps'), render: (_, r) => <Space wrap size={4}>{r.steps.map((s, i) => <Tag key={i}>{stepLabel(s)}</Tag>)}</Space> },
                ...(canWrite
                  ? [
                      {
                        title: '',
                        width: 150,
                        render: (_: unknown, r: PipelineRule, i: number) => (
                          <Space size={0}>
                            <Button size="small" type="text" icon={<ArrowUpOutlined />} disabled={i === 0 || busy} aria-label={t('common.up')} onClick={() => void move(i, -1)} />
                            <Button size="small" type="text" icon={<ArrowDownOutlined />} disabled={i === rules.length - 1 || busy} aria-label={t('common.down')} onClick={() => void move(i, 1)} />
                            <Button size="small" type="text" icon={<EditOutlined />} aria-label={t('common.edit')} onClick={() => setEditing({ rule: r })} />
                            <Popconfirm title={t('list.deleteConfirm', { name: r.name })} okText={t('common.delete')} cancelText={t('common.cancel')} okButtonProps={{ danger: true }} onConfirm={() => remove(r)}>
                              <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={t('common.delete')} />
                            </Popconfirm>
                          </Space>
                        ),
                      },
                    ]
                  : []),
              ]}
            />
            {editing && canWrite && (
              <RuleEditor
                key={editing.rule?.id ?? 'new'}
                project={project}
                rule={editing.rule}
                onDraft={(spec, error) => setDraft({ spec, error })}
                onClose={() => setEditing(null)}
                onSaved={() => {
                  setEditing(null);
                  pipeline.reload();
                }}
              />
            )}
          </Space>
        </Col>
        <Col xs={24} xl={11}>
          <DryRunPanel
            project={project}
            rules={dryRules}
            draftError={editing ? draft.error : null}
            version={rules.map((r) => `${r.id}@${r.position}@${r.updated_at}`).join(',')}
            onRuleAdded={canWrite ? () => pipeline.reload() : undefined}
          />
        </Col>
      </Row>
    </div>
  );
}
