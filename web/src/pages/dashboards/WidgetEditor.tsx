// Create or edit a widget: the form, and beside it a live preview of the widget over the
// dashboard's current range and variables (one aggregate call, as render would make it).

import { useEffect, useMemo, useState } from 'react';
import { AutoComplete, Button, Col, Drawer, Form, Input, InputNumber, Radio, Row, Space, Switch, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { ApiError, getFields, isAbort } from '../../api';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryEditor, type QueryError } from '../../components/QueryEditor';
import type { Catalog } from '../../query/completion';
import type { TimeRange } from '../../time/range';
import { previewAggregate, WIDGET_TYPES, type AggResult, type Dashboard, type Widget } from './api';
import {
  AGGS_FOR,
  formFieldOf,
  formToWidget,
  newWidgetId,
  NEEDS_FIELD,
  nextPosition,
  STATS,
  substitute,
  widgetToForm,
  type WidgetForm,
} from './model';
import { WidgetBody } from './WidgetBody';

const INTERVALS = ['auto', '10s', '1m', '5m', '15m', '1h', '1d'];

export default function WidgetEditor({
  project,
  dashboard,
  widget,
  range,
  chosen,
  onClose,
  onSave,
}: {
  project: string;
  dashboard: Dashboard;
  /** The widget to edit; undefined: a new one. */
  widget: Widget | undefined;
  range: TimeRange;
  chosen: Record<string, string>;
  onClose: () => void;
  /** Saves the dashboard with these widgets; rejects with the server's error. */
  onSave: (widgets: Widget[]) => Promise<void>;
}) {
  const { t } = useTranslation('dashboards');
  const [form] = Form.useForm<WidgetForm>();
  const initial = useMemo(() => widgetToForm(widget), [widget]);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [queryError, setQueryError] = useState<QueryError | null>(null);
  const [catalog, setCatalog] = useState<Catalog | undefined>();

  useEffect(() => {
    const ctl = new AbortController();
    getFields(project, null, ctl.signal)
      .then((f) => setCatalog({ fields: f.fields.map((x) => ({ name: x.name, types: x.types })), values: {} }))
      .catch(() => undefined);
    return () => ctl.abort();
  }, [project]);

  // Every value, also of the controls the chosen type hides (they come back when it is chosen again).
  const watched = Form.useWatch((all: WidgetForm) => all, { form, preserve: true }) as Partial<WidgetForm> | undefined;
  const values: WidgetForm = { ...initial, ...(watched ?? {}) };
  const type = values.type;
  const agg = values.agg;

  // A type that does not draw the chosen aggregation switches to its first.
  useEffect(() => {
    if (!AGGS_FOR[type].includes(agg)) form.setFieldValue('agg', AGGS_FOR[type][0]);
  }, [type, agg, form]);

  const fieldOptions = useMemo(() => {
    const names = ['level', 'service', 'host', 'source', ...(catalog?.fields ?? []).map((f) => f.name)];
    return [...new Set(names)].map((n) => ({ value: n }));
  }, [catalog]);

  // The preview: what the form describes, over the dashboard's range, after a pause in typing.
  const draft = formToWidget(values, widget?.position ?? nextPosition(dashboard.widgets, type), widget?.id);
  const needsField = NEEDS_FIELD.includes(agg) && !values.field.trim();
  const previewKey = JSON.stringify([draft.query, draft.aggregation, range.from, range.to, chosen]);
  const [preview, setPreview] = useState<{ loading: boolean; data?: AggResult; error?: unknown }>({ loading: false });
  useEffect(() => {
    if (needsField || !AGGS_FOR[type].includes(agg)) {
      setPreview({ loading: false });
      return;
    }
    const ctl = new AbortController();
    const timer = setTimeout(() => {
      setPreview((p) => ({ ...p, loading: true, error: undefined }));
      previewAggregate(
        project,
        { q: substitute(draft.query, chosen, dashboard.variables ?? []), from: range.from, to: range.to || 'now', aggs: { v: draft.aggregation } },
        ctl.signal,
      )
        .then((a) => setPreview({ loading: false, data: a.aggs.v }))
        .catch((e: unknown) => !isAbort(e) && !ctl.signal.aborted && setPreview({ loading: false, error: e }));
    }, 400);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [project, previewKey, needsField]);

  const save = async () => {
    let v: WidgetForm;
    try {
      v = { ...initial, ...(form.getFieldsValue(true) as Partial<WidgetForm>), ...(await form.validateFields()) };
    } catch {
      return;
    }
    setSaving(true);
    setError(null);
    setQueryError(null);
    const position = widget?.position ?? nextPosition(dashboard.widgets, v.type);
    const next = formToWidget(v, position, widget?.id ?? newWidgetId(dashboard.widgets));
    const widgets = widget ? dashboard.widgets.map((w) => (w.id === widget.id ? next : w)) : [...dashboard.widgets, next];
    try {
      await onSave(widgets);
    } catch (e) {
      const field = e instanceof ApiError && e.status === 400 ? formFieldOf(e.field) : null;
      if (field === 'query' && e instanceof ApiError) {
        const m = /\(at character (\d+)\)/.exec(e.message);
        setQueryError({ message: e.message.replace(/\s*\(at character \d+\)\s*$/, ''), position: e.position ?? (m ? Number(m[1]) : undefined) });
      } else if (field && e instanceof ApiError) {
        form.setFields([{ name: field, errors: [e.message] }]);
      } else {
        setError(e);
      }
    } finally {
      setSaving(false);
    }
  };

  const previewQueryError = preview.error instanceof ApiError && preview.error.status === 400 && preview.error.position !== undefined;

  return (
    <Drawer
      open
      onClose={onClose}
      size={Math.min(1200, typeof window !== 'undefined' ? window.innerWidth * 0.95 : 1200)}
      title={widget ? t('editor.editTitle', { title: widget.title }) : t('editor.newTitle')}
      destroyOnHidden
      extra={
        <Space>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="primary" loading={saving} onClick={() => void save()} data-testid="widget-save">
            {t('common.save')}
          </Button>
        </Space>
      }
    >
      {error !== null && <ErrorAlert error={error} style={{ marginBottom: 16 }} />}
      <Row gutter={24}>
        <Col xs={24} lg={11}>
          <Form form={form} layout="vertical" initialValues={initial} data-testid="widget-form">
            <Form.Item name="type" label={t('editor.type')}>
              <Radio.Group optionType="button" buttonStyle="solid" options={WIDGET_TYPES.map((w) => ({ value: w, label: t(`type.${w}`) }))} />
            </Form.Item>
            <Form.Item name="title" label={t('editor.title')} rules={[{ required: true, whitespace: true, message: t('common.required') }]}>
              <Input maxLength={200} />
            </Form.Item>
            <Form.Item
              name="query"
              label={t('editor.query')}
              extra={(dashboard.variables ?? []).length > 0 ? t('editor.queryVars', { vars: (dashboard.variables ?? []).map((v) => `$${v.name}`).join(' ') }) : t('editor.queryHint')}
            >
              <QueryEditor value="" onRun={() => undefined} catalog={catalog} error={queryError} placeholder={t('editor.queryPlaceholder')} />
            </Form.Item>
            <Form.Item name="agg" label={t('editor.aggregation')}>
              <Radio.Group optionType="button" options={AGGS_FOR[type].map((a) => ({ value: a, label: t(`agg.${a}`) }))} />
            </Form.Item>
            {NEEDS_FIELD.includes(agg) && (
              <Form.Item name="field" label={t('editor.field')} rules={[{ required: true, whitespace: true, message: t('common.required') }]}>
                <AutoComplete options={fieldOptions} filterOption={(input, o) => String(o?.value ?? '').includes(input)} placeholder="latency_ms" />
              </Form.Item>
            )}
            {agg === 'date_histogram' && (
              <Row gutter={12}>
                <Col span={7}>
                  <Form.Item name="interval" label={t('editor.interval')} rules={[{ pattern: /^(auto|\d+[smhd])$/, message: t('editor.intervalHint') }]}>
                    <AutoComplete options={INTERVALS.map((v) => ({ value: v }))} />
                  </Form.Item>
                </Col>
                <Col span={11}>
                  <Form.Item name="splitBy" label={t('editor.splitBy')} extra={t('editor.splitByHint')}>
                    <AutoComplete options={fieldOptions} filterOption={(input, o) => String(o?.value ?? '').includes(input)} allowClear />
                  </Form.Item>
                </Col>
                <Col span={6}>
                  <Form.Item name="size" label={t('editor.series')}>
                    <InputNumber min={1} max={20} disabled={!values.splitBy.trim()} style={{ width: '100%' }} />
                  </Form.Item>
                </Col>
              </Row>
            )}
            {agg === 'terms' && (
              <Form.Item name="size" label={t('editor.size')}>
                <InputNumber min={1} max={100} placeholder="10" style={{ width: 120 }} />
              </Form.Item>
            )}
            {agg === 'stats' && type === 'single_value' && (
              <Form.Item name="stat" label={t('editor.stat')}>
                <Radio.Group optionType="button" options={STATS.map((s) => ({ value: s, label: t(`stat.${s}`) }))} />
              </Form.Item>
            )}
            {agg === 'percentiles' && type === 'single_value' && (
              <Form.Item name="percent" label={t('editor.percent')} rules={[{ required: true, message: t('common.required') }]}>
                <InputNumber min={0} max={100} style={{ width: 120 }} />
              </Form.Item>
            )}
            {agg === 'percentiles' && type !== 'single_value' && (
              <Form.Item name="percents" label={t('editor.percents')} rules={[{ required: true, whitespace: true, message: t('common.required') }]}>
                <Input placeholder="50, 95, 99" />
              </Form.Item>
            )}
            <Row gutter={12}>
              <Col span={12}>
                <Form.Item name="unit" label={t('editor.unit')}>
                  <Input placeholder="ms" maxLength={20} />
                </Form.Item>
              </Col>
              {type === 'bar' && agg === 'date_histogram' && (
                <Col span={12}>
                  <Form.Item name="stack" label={t('editor.stack')} valuePropName="checked">
                    <Switch />
                  </Form.Item>
                </Col>
              )}
            </Row>
          </Form>
        </Col>
        <Col xs={24} lg={13}>
          <Typography.Text strong>{t('editor.preview')}</Typography.Text>
          <div className="nl-widget nl-widget-preview" data-testid="widget-preview">
            <div className="nl-widget-head">
              <Typography.Text strong ellipsis className="nl-widget-title">
                {values.title || t(`type.${type}`)}
              </Typography.Text>
            </div>
            <div className="nl-widget-body">
              {needsField ? (
                <Typography.Text type="secondary">{t('editor.needsField')}</Typography.Text>
              ) : preview.error !== undefined ? (
                previewQueryError ? (
                  <Typography.Text type="danger">{(preview.error as ApiError).message}</Typography.Text>
                ) : (
                  <ErrorAlert error={preview.error} />
                )
              ) : (
                <WidgetBody widget={draft} data={preview.data} loading={preview.loading} />
              )}
            </div>
          </div>
          <Typography.Text type="secondary" className="nl-small">
            {t('editor.previewHint')}
          </Typography.Text>
        </Col>
      </Row>
    </Drawer>
  );
}
