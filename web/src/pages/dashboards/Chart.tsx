// One ECharts canvas: the line, bar and pie widgets. Only the modules these draw are
// registered (echarts/core), and they load with the dashboards page, never with Explore.

import { useEffect, useRef } from 'react';
import * as echarts from 'echarts/core';
import { BarChart, LineChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([LineChart, BarChart, PieChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export function Chart({ option, testId }: { option: Record<string, unknown>; testId?: string }) {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    const c = echarts.init(host.current!, undefined, { renderer: 'canvas' });
    chart.current = c;
    // The grid resizes widgets: follow the element, not the window.
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(host.current!);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option]);

  return <div ref={host} className="nl-widget-chart" data-testid={testId} />;
}
