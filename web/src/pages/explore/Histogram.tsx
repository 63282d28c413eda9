import { useEffect, useRef } from 'react';
import * as echarts from 'echarts/core';
import { BarChart } from 'echarts/charts';
import { GridComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { theme as antdTheme } from 'antd';
import { useTranslation } from 'react-i18next';
import type { HistogramResult } from '../../api';
import { formatDateTime, formatNumber } from '../../i18n/format';
import { LEVEL_COLORS } from '../../components/Level';

echarts.use([BarChart, GridComponent, TooltipComponent, CanvasRenderer]);

export { LEVEL_COLORS };

const ORDER = ['FATAL', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'];

interface Props {
  data: HistogramResult | undefined;
  /** The range asked for, so the axis spans it even where there is no bucket. */
  fromMs?: number;
  toMs?: number;
  onZoom: (fromMs: number, toMs: number) => void;
  height?: number;
}

export function Histogram({ data, fromMs, toMs, onZoom, height = 140 }: Props) {
  const { t, i18n } = useTranslation();
  const { token } = antdTheme.useToken();
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const zoom = useRef(onZoom);
  zoom.current = onZoom;

  useEffect(() => {
    const c = echarts.init(host.current!, undefined, { renderer: 'canvas' });
    chart.current = c;
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(host.current!);
    c.on('brushEnd', (params: unknown) => {
      const areas = (params as { areas?: { coordRange?: [number, number] }[] }).areas;
      const range = areas?.[0]?.coordRange;
      c.dispatchAction({ type: 'brush', areas: [] });
      if (range && Number.isFinite(range[0]) && Number.isFinite(range[1])) zoom.current(range[0], range[1]);
    });
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    const lang = i18n.language;
    const buckets = data?.buckets ?? [];
    const interval = data?.interval_ms ?? 60_000;
    const series = [...(data?.series ?? [])].sort((a, b) => ORDER.indexOf(a.key) - ORDER.indexOf(b.key)).reverse();
    const stacks =
      data?.series !== undefined
        ? [
            ...series.map((s) => ({ name: s.key, counts: s.counts })),
            ...(data.other && data.other.some((n) => n > 0) ? [{ name: 'OTHER', counts: data.other }] : []),
          ]
        : [{ name: t('explore.events'), counts: buckets.map((b) => b.count) }];
    c.setOption(
      {
        animation: false,
        grid: { left: 48, right: 16, top: 28, bottom: 24 },
        legend: {
          top: 0,
          right: 8,
          itemWidth: 10,
          itemHeight: 10,
          textStyle: { color: token.colorTextSecondary, fontSize: 11 },
          data: stacks.map((s) => s.name),
        },
        tooltip: {
          trigger: 'axis',
          axisPointer: { type: 'shadow' },
          backgroundColor: token.colorBgElevated,
          borderColor: token.colorBorder,
          textStyle: { color: token.colorText, fontSize: 12 },
          formatter: (items: unknown) => {
            const list = items as { value: [number, number]; seriesName: string; marker: string }[];
            if (!list.length) return '';
            const start = list[0].value[0];
            const head = `${formatDateTime(start, lang, 'short')} – ${formatDateTime(start + interval, lang, 'time')}`;
            const total = list.reduce((n, i) => n + (i.value[1] || 0), 0);
            const rows = list
              .filter((i) => i.value[1] > 0)
              .reverse()
              .map((i) => `${i.marker}${i.seriesName}: <b>${formatNumber(i.value[1], lang)}</b>`);
            return [`<b>${head}</b>`, `${t('explore.total')}: <b>${formatNumber(total, lang)}</b>`, ...rows].join('<br/>');
          },
        },
        xAxis: {
          type: 'time',
          min: fromMs,
          max: toMs,
          axisLabel: {
            color: token.colorTextSecondary,
            fontSize: 11,
            hideOverlap: true,
            formatter: (v: number) => formatDateTime(v, lang, toMs && fromMs && toMs - fromMs > 86_400_000 * 2 ? 'short' : 'time'),
          },
          axisLine: { lineStyle: { color: token.colorBorder } },
          splitLine: { show: false },
        },
        yAxis: {
          type: 'value',
          minInterval: 1,
          axisLabel: { color: token.colorTextSecondary, fontSize: 11, formatter: (v: number) => formatNumber(v, lang, true) },
          splitLine: { lineStyle: { color: token.colorBorderSecondary } },
        },
        brush: {
          xAxisIndex: 0,
          brushType: 'lineX',
          brushMode: 'single',
          transformable: false,
          throttleType: 'debounce',
          brushStyle: { color: 'rgba(22,104,220,0.15)', borderColor: token.colorPrimary, borderWidth: 1 },
        },
        series: stacks.map((s) => ({
          name: s.name,
          type: 'bar',
          stack: 'total',
          barMaxWidth: 24,
          barCategoryGap: '10%',
          large: true,
          itemStyle: { color: LEVEL_COLORS[s.name] ?? token.colorPrimary },
          emphasis: { disabled: true },
          data: buckets.map((b, i) => [b.key + interval / 2, s.counts[i] ?? 0]),
        })),
      },
      { notMerge: true },
    );
    // Dragging on the chart selects a time span (no toolbox button to press first).
    c.dispatchAction({ type: 'takeGlobalCursor', key: 'brush', brushOption: { brushType: 'lineX', brushMode: 'single' } });
  }, [data, fromMs, toMs, token, t, i18n.language]);

  return <div ref={host} style={{ width: '100%', height }} data-testid="histogram" aria-label={t('explore.histogram')} role="img" />;
}
