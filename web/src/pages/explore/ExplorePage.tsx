import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Alert, Button, Card, Empty, Select, Space, Spin, Tooltip, Typography } from 'antd';
import { LeftOutlined, ReloadOutlined, RightOutlined, SearchOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { ApiError, exploreAggregate, type ExploreAggs, type AggregateAnswer, type FieldsAnswer, getFields, isAbort, search, type SearchAnswer } from '../../api';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryEditor, type QueryEditorHandle, type QueryError } from '../../components/QueryEditor';
import { TimePicker } from '../../components/TimePicker';
import { useFormat } from '../../i18n/format';
import type { Catalog } from '../../query/completion';
import { addFilter } from '../../query/filters';
import { useSession } from '../../session';
import { absoluteRange, checkRange, quickRange, rangeFromParams, type TimeRange } from '../../time/range';
import { FieldSidebar, type SidebarField } from './FieldSidebar';
import { Histogram } from './Histogram';
import { ResultsTable } from './ResultsTable';
import { SaveSearchButton } from '../searches/SaveSearchButton';

const LIMITS = [100, 500, 1000, 5000, 10000];
const LIMIT_KEY = 'nexuslog.explore.limit';
const STANDARD_SIDEBAR = ['level', 'service', 'host', 'source'] as const;
/** A Performance mark set when a search's answer is parsed (for the e2e's render budget). */
const RECEIVED_MARK = 'nexuslog.explore.received';

type Load<T> = { loading: boolean; data?: T; error?: unknown };

function savedLimit(): number {
  const n = Number(localStorage.getItem(LIMIT_KEY));
  return LIMITS.includes(n) ? n : 500;
}

/** Keys typed into a text field are not shortcuts. */
function typing(e: KeyboardEvent): boolean {
  const el = e.target as HTMLElement | null;
  if (!el) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName) || !!el.closest('.cm-editor');
}

export default function ExplorePage() {
  const { t } = useTranslation();
  const fmt = useFormat();
  const session = useSession();
  const project = session.project!;
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const range = rangeFromParams(params);
  const rangeProblem = checkRange(range);
  const editor = useRef<QueryEditorHandle>(null);

  const [draft, setDraft] = useState(q);
  const [nonce, setNonce] = useState(0);
  const [limit, setLimit] = useState(savedLimit);
  const [cursors, setCursors] = useState<string[]>([]);
  const [result, setResult] = useState<Load<SearchAnswer>>({ loading: true });
  const [aggs, setAggs] = useState<Load<AggregateAnswer<ExploreAggs>>>({ loading: true });
  const [fields, setFields] = useState<Load<FieldsAnswer>>({ loading: true });

  useEffect(() => setDraft(q), [q]);
  // Another project: its own first page.
  useEffect(() => setCursors([]), [project]);

  /** Runs a query over a range: a new history entry, or a re-run of the same one. */
  const go = useCallback(
    (nextQ: string, nextRange: TimeRange) => {
      const next = new URLSearchParams(params);
      if (nextQ.trim()) next.set('q', nextQ.trim());
      else next.delete('q');
      next.set('from', nextRange.from);
      next.set('to', nextRange.to || 'now');
      next.set('project', project);
      setCursors([]);
      // Always a new run (the same query again means "refresh"), in one render with the URL.
      setNonce((n) => n + 1);
      if (next.toString() !== params.toString()) setParams(next);
    },
    [params, project, setParams],
  );

  const run = useCallback((text?: string) => go(text ?? editor.current?.text() ?? draft, range), [go, draft, range]);
  const onFilter = useCallback(
    (field: string, value: unknown, exclude: boolean) => go(addFilter(editor.current?.text() ?? q, field, value, exclude), range),
    [go, q, range],
  );
  const onZoom = useCallback((a: number, b: number) => go(editor.current?.text() ?? q, absoluteRange(a, b)), [go, q, range]);

  const cursor = cursors[cursors.length - 1];
  const valid = rangeProblem === null;

  // Results: on every run, page and limit change.
  useEffect(() => {
    if (!valid) return;
    const ctl = new AbortController();
    setResult((r) => ({ ...r, loading: true, error: undefined }));
    search(project, { q, from: range.from, to: range.to, limit, cursor }, ctl.signal)
      .then((data) => {
        // Parsed, about to render: ResultsTable marks RENDERED_MARK once the rows are painted.
        performance.mark(RECEIVED_MARK, { detail: { rows: data.hits.length } });
        setResult({ loading: false, data });
      })
      .catch((error: unknown) => !isAbort(error) && setResult({ loading: false, error }));
    return () => ctl.abort();
  }, [project, q, range.from, range.to, limit, cursor, nonce, valid]);

  // Histogram, standard fields' top values, and the field catalog with top values: per run.
  useEffect(() => {
    if (!valid) return;
    const ctl = new AbortController();
    const args = { q, from: range.from, to: range.to };
    setAggs((a) => ({ ...a, loading: true, error: undefined }));
    setFields((f) => ({ ...f, loading: true, error: undefined }));
    exploreAggregate(project, args, ctl.signal)
      .then((data) => setAggs({ loading: false, data }))
      .catch((error: unknown) => !isAbort(error) && setAggs((a) => ({ loading: false, error, data: a.data })));
    getFields(project, args, ctl.signal)
      .then((data) => setFields({ loading: false, data }))
      .catch((error: unknown) => !isAbort(error) && setFields((f) => ({ loading: false, error, data: f.data })));
    return () => ctl.abort();
  }, [project, q, range.from, range.to, nonce, valid]);

  // `/` focuses the query; `]` and `[` page through older and newer results.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(e)) return;
      if (e.key === '/') {
        e.preventDefault();
        editor.current?.focus();
      } else if (e.key === ']' && result.data?.next_cursor) {
        const next = result.data.next_cursor;
        setCursors((c) => [...c, next]);
      } else if (e.key === '[') {
        setCursors((c) => c.slice(0, -1));
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [result.data]);

  // A query the server refused: shown under the editor at its position.
  const queryError: QueryError | null = useMemo(() => {
    for (const e of [result.error, aggs.error, fields.error]) {
      if (e instanceof ApiError && e.status === 400 && (e.position !== undefined || e.message.startsWith('invalid query'))) {
        return { message: e.message, position: e.position };
      }
    }
    return null;
  }, [result.error, aggs.error, fields.error]);
  const otherError = [result.error, aggs.error].find((e) => e && !(queryError && e instanceof ApiError && e.status === 400));

  const sidebar: SidebarField[] = useMemo(() => {
    const out: SidebarField[] = STANDARD_SIDEBAR.map((name) => {
      const terms = aggs.data?.aggs[name];
      return { name, standard: true, top: terms?.buckets, other: terms?.other };
    });
    for (const f of fields.data?.fields ?? []) {
      if (f.name.startsWith('ingest.')) continue;
      out.push({ name: f.name, types: f.types, conflict: f.conflict, top: f.top_values, other: f.other });
    }
    for (const f of fields.data?.fields ?? []) {
      if (f.name.startsWith('ingest.')) out.push({ name: f.name, types: f.types, conflict: f.conflict, top: f.top_values, other: f.other });
    }
    return out;
  }, [aggs.data, fields.data]);

  const catalog: Catalog = useMemo(() => {
    const values: Catalog['values'] = {};
    for (const f of sidebar) if (f.top) values[f.name] = f.top.map((v) => ({ value: v.key, count: v.count }));
    return { fields: (fields.data?.fields ?? []).map((f) => ({ name: f.name, types: f.types })), values };
  }, [sidebar, fields.data]);

  const data = result.data;
  const resultKey = `${project}|${q}|${range.from}|${range.to}|${cursor ?? ''}|${nonce}`;
  const fromMs = aggs.data ? Date.parse(aggs.data.from) : undefined;
  const toMs = aggs.data ? Date.parse(aggs.data.to) : undefined;
  const histogramTotal = aggs.error ? undefined : aggs.data?.aggs.timeline.buckets.reduce((n, b) => n + b.count, 0);

  return (
    <div className="nl-explore">
      <div className="nl-toolbar">
        <QueryEditor ref={editor} value={q} onChange={setDraft} onRun={(text) => run(text)} catalog={catalog} error={queryError} />
        <TimePicker value={range} onChange={(r) => go(editor.current?.text() ?? draft, r)} />
        <Tooltip title={t('explore.runHint')}>
          <Button type="primary" icon={<SearchOutlined />} onClick={() => run()} loading={result.loading && !!data} data-testid="run-query">
            {t('explore.run')}
          </Button>
        </Tooltip>
        <SaveSearchButton query={() => editor.current?.text() ?? draft} range={range} />
      </div>

      {rangeProblem && (
        <Alert
          type="warning"
          showIcon
          title={t(rangeProblem === 'empty' ? 'time.empty' : 'time.invalid')}
          action={
            <Button size="small" onClick={() => go(q, quickRange('15m'))}>
              {t('time.quick.15m')}
            </Button>
          }
        />
      )}
      {otherError !== undefined && <ErrorAlert error={otherError} onRetry={() => setNonce((n) => n + 1)} />}

      <Card size="small" className="nl-histogram-card" styles={{ body: { padding: '8px 8px 0' } }}>
        <div className="nl-histogram-head">
          <Typography.Text strong data-testid="hit-count">
            {data
              ? data.total_relation === 'gte'
                ? t('explore.hitsAtLeast', { count: data.total, formatted: fmt.number(data.total) })
                : t('explore.hits', { count: data.total, formatted: fmt.number(data.total) })
              : histogramTotal !== undefined
                ? t('explore.hits', { count: histogramTotal, formatted: fmt.number(histogramTotal) })
                : '\u00a0'}
          </Typography.Text>
          <Typography.Text type="secondary" className="nl-small">
            {t('explore.zoomHint')}
          </Typography.Text>
        </div>
        <Spin spinning={aggs.loading} delay={200}>
          <Histogram data={aggs.error ? undefined : aggs.data?.aggs.timeline} fromMs={fromMs} toMs={toMs} onZoom={onZoom} />
        </Spin>
      </Card>

      <div className="nl-explore-main">
        <FieldSidebar fields={sidebar} loading={aggs.loading || fields.loading} truncated={fields.data?.top_values_truncated} onFilter={onFilter} />
        <section className="nl-results">
          <div className="nl-results-bar">
            <Space>
              <Tooltip title={`${t('explore.newer')} ( [ )`}>
                <Button size="small" icon={<LeftOutlined />} disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))} aria-label={t('explore.newer')} />
              </Tooltip>
              <Typography.Text type="secondary">{t('explore.page', { page: fmt.number(cursors.length + 1) })}</Typography.Text>
              <Tooltip title={`${t('explore.older')} ( ] )`}>
                <Button
                  size="small"
                  icon={<RightOutlined />}
                  disabled={!data?.next_cursor}
                  onClick={() => data?.next_cursor && setCursors((c) => [...c, data.next_cursor!])}
                  aria-label={t('explore.older')}
                />
              </Tooltip>
            </Space>
            <Space>
              <Typography.Text type="secondary">{t('explore.perPage')}</Typography.Text>
              <Select
                size="small"
                value={limit}
                aria-label={t('explore.perPage')}
                onChange={(v) => {
                  setLimit(v);
                  setCursors([]);
                  localStorage.setItem(LIMIT_KEY, String(v));
                }}
                options={LIMITS.map((n) => ({ value: n, label: fmt.number(n) }))}
                style={{ width: 96 }}
              />
              <Tooltip title={t('explore.refresh')}>
                <Button size="small" icon={<ReloadOutlined />} onClick={() => setNonce((n) => n + 1)} aria-label={t('explore.refresh')} />
              </Tooltip>
            </Space>
          </div>
          <div className="nl-results-body">
            {result.loading && !data ? (
              <div className="nl-center">
                <Spin description={t('common.loading')} />
              </div>
            ) : data && data.hits.length > 0 ? (
              <div className="nl-fill">
                {result.loading && (
                  <div className="nl-overlay">
                    <Spin delay={150} />
                  </div>
                )}
                <ResultsTable hits={data.hits} onFilter={onFilter} resultKey={resultKey} />
              </div>
            ) : data ? (
              <Empty className="nl-empty" description={t('explore.noResults')}>
                <Typography.Paragraph type="secondary">{t('explore.noResultsHint')}</Typography.Paragraph>
                <Button onClick={() => go(q, quickRange('7d'))}>{t('explore.widen')}</Button>
              </Empty>
            ) : queryError ? (
              <Empty className="nl-empty" description={t('explore.fixQuery')} />
            ) : null}
          </div>
        </section>
      </div>
    </div>
  );
}
