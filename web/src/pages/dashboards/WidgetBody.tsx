// What one widget shows for its data: a chart, a single number, or a table; with loading,
// empty and error states. The charts carry an accessible summary of what they draw.

import { useMemo } from 'react';
import { Alert, Empty, Spin, Table, theme as antdTheme, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { useFormat } from '../../i18n/format';
import type { AggResult, AggSpec, WidgetOptions, WidgetType } from './api';
import { chartOption, shape, summary, type ChartStyle, type Labels } from './charts';
import { Chart } from './Chart';

const TIME_FORMATS = new Map<string, Intl.DateTimeFormat>();
function shortTime(ms: number, lang: string): string {
  let f = TIME_FORMATS.get(lang);
  if (!f) TIME_FORMATS.set(lang, (f = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })));
  return f.format(ms);
}

export interface WidgetLike {
  type: WidgetType;
  aggregation?: AggSpec;
  options?: WidgetOptions;
}

export function WidgetBody({ widget, data, error, loading }: { widget: WidgetLike; data?: AggResult; error?: string | null; loading: boolean }) {
  const { t } = useTranslation('dashboards');
  const fmt = useFormat();
  const { token } = antdTheme.useToken();
  const labels: Labels = useMemo(
    () => ({
      count: t('widget.count'),
      other: t('widget.other'),
      stat: (s) => t(`stat.${s}`),
      percentile: (p) => t('widget.percentile', { p: fmt.number(p) }),
    }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [t, fmt.locale],
  );
  const shaped = useMemo(
    () => (data ? shape(widget.type, widget.aggregation, widget.options, data, labels) : null),
    [data, widget.type, widget.aggregation, widget.options, labels],
  );
  const option = useMemo(() => {
    if (!shaped) return null;
    const style: ChartStyle = {
      text: token.colorText,
      textSecondary: token.colorTextSecondary,
      border: token.colorBorder,
      borderSecondary: token.colorBorderSecondary,
      background: token.colorBgElevated,
      number: (n, compact) => fmt.number(n, compact),
      time: (ms) => shortTime(ms, fmt.locale),
    };
    return chartOption(widget.type, shaped, style, widget.options);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shaped, widget.type, widget.options, token, fmt.locale]);

  if (error) return <Alert type="error" showIcon title={t('widget.failed')} description={error} data-testid="widget-error" />;
  if (!shaped) return <div className="nl-center">{loading ? <Spin /> : <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} />}</div>;
  if (shaped.kind === 'mismatch') return <Alert type="warning" showIcon title={t('widget.mismatch')} />;

  const unit = widget.options?.unit ? ` ${widget.options.unit}` : '';
  const show = (v: number | null) => (v === null ? '—' : `${fmt.number(v)}${unit}`);
  const items = summary(shaped);

  let body: React.ReactNode;
  if (shaped.kind === 'value') {
    body = (
      <div className="nl-single" data-testid="widget-value">
        {show(shaped.value)}
      </div>
    );
  } else if (shaped.kind === 'rows') {
    body = (
      <Table
        size="small"
        pagination={false}
        rowKey="name"
        dataSource={shaped.rows}
        data-testid="widget-table"
        locale={{ emptyText: t('widget.noData') }}
        columns={[
          { title: t('widget.value'), dataIndex: 'name', render: (n: string) => <Typography.Text>{n}</Typography.Text> },
          { title: t('widget.amount'), dataIndex: 'value', align: 'right', render: (v: number | null) => show(v) },
        ]}
      />
    );
  } else if (shaped.kind === 'categories' && shaped.items.length === 0) {
    body = <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('widget.noData')} />;
  } else {
    body = (
      <>
        {option && <Chart option={option} testId="widget-chart" />}
        {/* What the canvas draws, for screen readers (and tests). */}
        <ul className="nl-sr-only" data-testid="widget-summary">
          {items.map((i) => (
            <li key={i.name} data-name={i.name} data-value={i.value ?? ''}>
              {i.name}: {show(i.value)}
            </li>
          ))}
        </ul>
      </>
    );
  }
  return (
    <Spin spinning={loading} delay={300} classNames={{ root: 'nl-widget-spin' }}>
      {body}
    </Spin>
  );
}
