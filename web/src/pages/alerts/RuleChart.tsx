// The rule's aggregation over the last hours, with its threshold drawn as a dashed line.

import { useEffect, useRef, useState } from 'react';
import * as echarts from 'echarts/core';
import { LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { Alert, Spin, theme as antdTheme, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { isAbort } from '../../api';
import { formatNumber } from '../../i18n/format';
import { errorText } from '../../components/errors';
import { aggregate, type AggKind, type Op, type RuleKind } from './api';
import {
  histogramSeries,
  intervalText,
  metricAgg,
  metricValue,
  planChart,
  pooled,
  thresholdLine,
  type ChartSeries,
} from './chartData';

echarts.use([LineChart, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent, CanvasRenderer]);

const HHMM = new Map<string, Intl.DateTimeFormat>();
function hhmm(ms: number, lang: string): string {
  let f = HHMM.get(lang);
  if (!f) HHMM.set(lang, (f = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })));
  return f.format(ms);
}

export interface ChartInput {
  query: string;
  windowMs: number;
  aggKind: AggKind;
  aggField: string;
  groupBy: string[];
  kind: RuleKind;
  op: Op;
  threshold: number | null;
}

interface Loaded {
  series: ChartSeries[];
  fromMs: number;
  toMs: number;
  mode: 'histogram' | 'per_window';
}

export function RuleChart({ project, input }: { project: string; input: ChartInput }) {
  const { t, i18n } = useTranslation('alerts');
  const { token } = antdTheme.useToken();
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const [data, setData] = useState<Loaded | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const needsField = input.aggKind !== 'count' && !input.aggField.trim();
  const key = JSON.stringify([input.query, input.windowMs, input.aggKind, input.aggField, input.groupBy]);

  // Refetch when what is aggregated changes (the threshold only redraws).
  useEffect(() => {
    if (needsField) return;
    const ctl = new AbortController();
    const timer = setTimeout(() => {
      const plan = planChart(input.windowMs, input.aggKind, Date.now());
      setLoading(true);
      setError(null);
      const run = async (): Promise<Loaded> => {
        if (plan.mode === 'histogram') {
          const split = input.groupBy.length === 1 ? { split_by: input.groupBy[0], size: 5 } : {};
          const a = await aggregate<{ h: Parameters<typeof histogramSeries>[0] }>(
            project,
            {
              q: input.query,
              from: new Date(plan.fromMs).toISOString(),
              to: new Date(plan.toMs).toISOString(),
              aggs: { h: { date_histogram: { interval: intervalText(plan.intervalMs), ...split } } },
            },
            ctl.signal,
          );
          return { series: histogramSeries(a.aggs.h, t('chart.count'), t('chart.other')), fromMs: plan.fromMs, toMs: plan.toMs, mode: plan.mode };
        }
        const values = await pooled(
          plan.starts.map((start) => async () => {
            const a = await aggregate<{ v: unknown }>(
              project,
              {
                q: input.query,
                from: new Date(start).toISOString(),
                to: new Date(start + plan.intervalMs).toISOString(),
                aggs: { v: metricAgg(input.aggKind, input.aggField.trim()) },
              },
              ctl.signal,
            );
            return metricValue(input.aggKind, a.aggs.v);
          }),
          4,
        );
        return {
          series: [{ name: t(`agg.${input.aggKind}`), points: plan.starts.map((s, i) => [s, values[i]]) }],
          fromMs: plan.fromMs,
          toMs: plan.toMs,
          mode: plan.mode,
        };
      };
      run()
        .then((d) => setData(d))
        .catch((e: unknown) => {
          if (isAbort(e) || ctl.signal.aborted) return;
          setError(e);
          setData(null);
        })
        .finally(() => {
          if (!ctl.signal.aborted) setLoading(false);
        });
    }, 400);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [project, key, needsField]);

  useEffect(() => {
    const c = echarts.init(host.current!, undefined, { renderer: 'canvas' });
    chart.current = c;
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(host.current!);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    if (!data) {
      c.clear();
      return;
    }
    const lang = i18n.language;
    const line = thresholdLine(input.kind, input.op, input.threshold, t('chart.threshold'));
    c.setOption(
      {
        animation: false,
        grid: { left: 52, right: 24, top: 32, bottom: 28 },
        legend: data.series.length > 1 ? { top: 0, textStyle: { color: token.colorTextSecondary } } : undefined,
        tooltip: {
          trigger: 'axis',
          backgroundColor: token.colorBgElevated,
          borderColor: token.colorBorder,
          textStyle: { color: token.colorText, fontSize: 12 },
          valueFormatter: (v: unknown) => (typeof v === 'number' ? formatNumber(v, lang) : '–'),
        },
        xAxis: {
          type: 'time',
          min: data.fromMs,
          max: data.toMs,
          axisLabel: { color: token.colorTextSecondary, fontSize: 11, hideOverlap: true, formatter: (v: number) => hhmm(v, lang) },
          axisLine: { lineStyle: { color: token.colorBorder } },
        },
        yAxis: {
          type: 'value',
          // Keep the threshold in view even when every value is far below it.
          max: line ? (v: { max: number }) => Math.max(v.max, input.threshold ?? 0) : undefined,
          axisLabel: { color: token.colorTextSecondary, fontSize: 11, formatter: (v: number) => formatNumber(v, lang, true) },
          splitLine: { lineStyle: { color: token.colorBorderSecondary } },
        },
        series: data.series.map((s, i) => ({
          type: 'line',
          name: s.name,
          data: s.points,
          showSymbol: s.points.length <= 60,
          connectNulls: false,
          step: data.mode === 'histogram' ? 'start' : undefined,
          markLine: i === 0 ? line : undefined,
        })),
      },
      { notMerge: true },
    );
  }, [data, input.kind, input.op, input.threshold, token, t, i18n.language]);

  return (
    <div className="nl-alert-chart">
      {needsField && <Alert type="info" showIcon title={t('chart.needsField')} style={{ marginBottom: 8 }} />}
      {error !== null && <Alert type="error" showIcon title={t('chart.failed')} description={errorText(error, i18n.t)} style={{ marginBottom: 8 }} />}
      <Spin spinning={loading}>
        <div ref={host} style={{ height: 220, width: '100%' }} data-testid="rule-chart" />
      </Spin>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {data?.mode === 'per_window'
          ? t('chart.noteMetric', { count: data.series[0]?.points.length ?? 0, window: intervalText(input.windowMs) })
          : t('chart.noteCount', { window: intervalText(input.windowMs) })}
        {input.groupBy.length > 0 && (input.aggKind !== 'count' || input.groupBy.length > 1) ? ` ${t('chart.noteGroups')}` : ''}
        {input.kind === 'absence' ? ` ${t('chart.noteAbsence')}` : ''}
      </Typography.Text>
    </div>
  );
}
