// @vitest-environment jsdom
// The widget editor end to end in the DOM: the controls each type shows, the live preview of
// what the form describes (variables substituted), and the widget it saves.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, waitFor } from '@testing-library/react';
import i18n from '../../i18n';
import './i18n';
import type { Dashboard, Widget } from './api';

const preview = vi.fn();
vi.mock('./api', async (orig) => ({ ...(await orig<typeof import('./api')>()), previewAggregate: (...args: unknown[]) => preview(...args) }));
vi.mock('../../api', async (orig) => ({ ...(await orig<typeof import('../../api')>()), getFields: () => Promise.resolve({ fields: [], conflicts: 0 }) }));
// The canvas is not what is tested here (jsdom has none): the chart's summary list is.
vi.mock('./Chart', () => ({ Chart: () => null }));

const { default: WidgetEditor } = await import('./WidgetEditor');

beforeAll(async () => {
  await i18n.changeLanguage('en');
  // antd reads these in jsdom.
  window.matchMedia ??= ((q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {}, onchange: null, dispatchEvent: () => false })) as typeof window.matchMedia;
  globalThis.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  } as unknown as typeof ResizeObserver;
});
afterEach(() => {
  cleanup();
  preview.mockReset();
});

const line: Widget = { id: 'w1', type: 'line', title: 'Errors', query: 'level:error', aggregation: { date_histogram: { interval: 'auto' } }, position: { x: 0, y: 0, w: 12, h: 7 } };
const dashboard: Dashboard = {
  id: 'd1',
  owner: 'user:1',
  created_at: '',
  updated_at: '',
  name: 'Ops',
  variables: [{ name: 'service', field: 'service' }],
  widgets: [line],
};

function open(widget?: Widget) {
  const onSave = vi.fn((_: Widget[]) => Promise.resolve());
  const utils = render(
    <WidgetEditor project="p" dashboard={dashboard} widget={widget} range={{ from: 'now-1h', to: 'now' }} chosen={{ service: 'checkout' }} onClose={() => undefined} onSave={onSave} />,
  );
  const q = (sel: string) => document.body.querySelector(sel) as HTMLElement;
  return { ...utils, onSave, q };
}

const radio = (label: string) => [...document.body.querySelectorAll('label')].find((l) => l.textContent === label)!.querySelector('input')!;
/** The control a form label names, or null when the form does not show it. */
const input = (label: string) => {
  const l = [...document.body.querySelectorAll('label')].find((x) => x.textContent === label);
  return l ? (document.getElementById(l.htmlFor) as HTMLInputElement) : null;
};

// antd's form and drawer in jsdom take seconds on a busy machine.
describe('WidgetEditor', { timeout: 30_000 }, () => {
  it('a new pie: top values of a field, previewed over the range, saved below the others', async () => {
    preview.mockResolvedValue({ from: '', to: '', aggs: { v: { buckets: [{ key: 'web-a', count: 8 }, { key: 'web-b', count: 16 }], other: 0 } } });
    const { onSave } = open();
    await act(async () => fireEvent.click(radio('Pie')));
    // A pie shows top values: the field is asked for, not the interval (a line's).
    expect(input('Interval')).toBeTruthy();
    await waitFor(() => expect(input('Field')).toBeTruthy());
    expect(input('Interval')).toBeNull();
    fireEvent.change(input('Title')!, { target: { value: 'Hosts' } });
    fireEvent.change(input('Field')!, { target: { value: 'host' } });
    // The preview follows the form (it first showed the new widget's default, a line).
    await waitFor(() => expect(preview.mock.calls.at(-1)?.[1].aggs.v).toEqual({ terms: { field: 'host' } }), { timeout: 5000 });
    const [project, body] = preview.mock.calls.at(-1)!;
    expect(project).toBe('p');
    expect(body).toMatchObject({ q: '', from: 'now-1h', to: 'now', aggs: { v: { terms: { field: 'host' } } } });
    await waitFor(() => expect(document.body.querySelectorAll('[data-testid=widget-summary] li')).toHaveLength(2));
    const items = [...document.body.querySelectorAll('[data-testid=widget-summary] li')].map((li) => [(li as HTMLElement).dataset.name, (li as HTMLElement).dataset.value]);
    expect(items).toEqual([
      ['web-a', '8'],
      ['web-b', '16'],
    ]);
    await act(async () => fireEvent.click(document.body.querySelector('[data-testid=widget-save]')!));
    await waitFor(() => expect(onSave).toHaveBeenCalled());
    const widgets = onSave.mock.calls[0][0];
    expect(widgets).toHaveLength(2);
    expect(widgets[0]).toBe(line);
    expect(widgets[1]).toEqual({ id: 'w2', type: 'pie', title: 'Hosts', query: '', aggregation: { terms: { field: 'host' } }, position: { x: 12, y: 0, w: 8, h: 7 } });
  });

  it('editing keeps the id and position; the preview substitutes the chosen variables', async () => {
    preview.mockResolvedValue({ from: '', to: '', aggs: { v: { interval_ms: 60000, buckets: [{ key: 0, key_as_string: '', count: 3 }] } } });
    const { onSave } = open({ ...line, query: 'level:error service:$service' });
    await waitFor(() => expect(preview).toHaveBeenCalled(), { timeout: 3000 });
    expect(preview.mock.calls.at(-1)![1].q).toBe('level:error service:"checkout"');
    fireEvent.change(input('Title')!, { target: { value: 'Checkout errors' } });
    await act(async () => fireEvent.click(document.body.querySelector('[data-testid=widget-save]')!));
    await waitFor(() => expect(onSave).toHaveBeenCalled());
    expect(onSave.mock.calls[0][0]).toEqual([{ ...line, query: 'level:error service:$service', title: 'Checkout errors' }]);
  });

  it('a title is required; nothing is saved without one', async () => {
    preview.mockResolvedValue({ from: '', to: '', aggs: { v: { value: 1 } } });
    const { onSave } = open();
    await act(async () => fireEvent.click(radio('Single value')));
    await act(async () => fireEvent.click(document.body.querySelector('[data-testid=widget-save]')!));
    await waitFor(() => expect(document.body.textContent).toContain('Required'));
    expect(onSave).not.toHaveBeenCalled();
  });
});
