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

const GRID = { left: 48, right: 16, top: 28, bottom: 24 };

const ORDER = ['FATAL', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE', 'OTHER'];

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
  const selection = useRef<HTMLDivElement>(null);
  const zoom = useRef(onZoom);
  zoom.current = onZoom;

  useEffect(() => {
    const c = echarts.init(host.current!, undefined, { renderer: 'canvas' });
    chart.current = c;
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(host.current!);
    // Drag to zoom: a selection drawn over the plot, turned into times by the x axis. (ECharts'
    // brush component would do it too, at several times the code.)
    const zr = c.getZr();
    let start: number | null = null;
    const box = selection.current!;
    const inside = (x: number, y: number) => c.containPixel({ gridIndex: 0 }, [x, y]);
    const draw = (a: number, b: number) => {
      box.style.display = 'block';
      box.style.left = `${Math.min(a, b)}px`;
      box.style.width = `${Math.abs(b - a)}px`;
    };
    zr.on('mousedown', (e) => {
      if (inside(e.offsetX, e.offsetY)) {
        start = e.offsetX;
        draw(start, start);
      }
    });
    zr.on('mousemove', (e) => {
      if (start !== null) draw(start, e.offsetX);
    });
    const finish = (x: number | null) => {
      if (start === null) return;
      const a = start;
      start = null;
      box.style.display = 'none';
      if (x === null || Math.abs(x - a) < 4) return;
      const t0 = c.convertFromPixel({ xAxisIndex: 0 }, a) as number;
      const t1 = c.convertFromPixel({ xAxisIndex: 0 }, x) as number;
      if (Number.isFinite(t0) && Number.isFinite(t1)) zoom.current(Math.min(t0, t1), Math.max(t0, t1));
    };
    zr.on('mouseup', (e) => finish(e.offsetX));
    zr.on('globalout', () => finish(null));
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
        grid: GRID,
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
  }, [data, fromMs, toMs, token, t, i18n.language]);

  const legend = data?.series
    ? [...data.series.map((x) => x.key), ...(data.other?.some((n) => n > 0) ? ['OTHER'] : [])].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b))
    : [];
  return (
    <div className="nl-histogram" style={{ height }}>
      {legend.length > 0 && (
        <div className="nl-legend" aria-hidden>
          {legend.map((k) => (
            <span key={k}>
              <i style={{ background: LEVEL_COLORS[k] ?? token.colorPrimary }} />
              {k}
            </span>
          ))}
        </div>
      )}
      <div ref={host} style={{ width: '100%', height }} data-testid="histogram" aria-label={t('explore.histogram')} role="img" />
      <div ref={selection} className="nl-histogram-selection" style={{ top: GRID.top, bottom: GRID.bottom }} />
    </div>
  );
}
