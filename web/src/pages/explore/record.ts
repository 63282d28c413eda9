import type { LogRecord } from '../../api';

/** A collapsed row of the virtualized tables (Explore, Live tail): `.nl-row-main`'s fixed 28px and
 * the row's 1px border. Exact, so measuring a row never corrects the scroll position: the
 * virtualizer corrects from the offset it last saw, which pulled a dragged scrollbar back. */
export const ROW_HEIGHT = 29;

/** The fields of a record to show and filter on: the standard ones, then the extracted ones. */
export function recordFields(r: LogRecord): [string, unknown][] {
  const rows: [string, unknown][] = [
    ['timestamp', r.timestamp],
    ['level', r.level],
    ['service', r.service],
    ['host', r.host],
    ['source', r.source],
    ['message', r.message],
  ];
  if (r.trace_id) rows.push(['trace_id', r.trace_id]);
  if (r.span_id) rows.push(['span_id', r.span_id]);
  for (const k of Object.keys(r.fields ?? {}).sort()) rows.push([k, r.fields[k]]);
  if (r.parse_status && r.parse_status !== 'ok') rows.push(['parse_status', r.parse_status]);
  rows.push(['id', r.id]);
  return rows.filter(([, v]) => v !== null && v !== undefined && v !== '');
}

/** Fields one can filter on by exact value (not times, not structured values). */
export function filterable(name: string, value: unknown): boolean {
  if (name === 'timestamp' || name === 'received_at') return false;
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/** The record as the API gave it, without the search's highlight spans. */
export function recordJson(r: LogRecord): string {
  const { highlight: _h, ...rest } = r;
  void _h;
  return JSON.stringify(rest, null, 2);
}

export function display(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
