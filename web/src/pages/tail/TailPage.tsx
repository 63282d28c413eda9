import { useCallback, useEffect, useRef, useState } from 'react';
import { Alert, Badge, Button, Empty, Space, Switch, Typography } from 'antd';
import { CaretRightOutlined, ClearOutlined, DownOutlined, PauseOutlined, RightOutlined, StopOutlined } from '@ant-design/icons';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useTranslation } from 'react-i18next';
import { api, ApiError, getFields, isAbort, type LogRecord, openTail } from '../../api';
import { errorText } from '../../components/errors';
import { QueryEditor, type QueryEditorHandle, type QueryError } from '../../components/QueryEditor';
import { formatDateTime, useFormat } from '../../i18n/format';
import type { Catalog } from '../../query/completion';
import { useSession } from '../../session';
import { RateMeter } from '../../tail/rate';
import { readTail, type TailItem } from '../../tail/sse';
import { LevelBadge } from '../../components/Level';
import { recordJson, ROW_HEIGHT } from '../explore/record';

/** Rows kept on screen; older ones are dropped. */
export const MAX_ROWS = 5000;
const FLUSH_MS = 200;
/** The server sends a heartbeat every 15 s. */
const STALE_MS = 40_000;

type Status = 'idle' | 'connecting' | 'live' | 'paused' | 'closed' | 'disconnected' | 'error';

const STATUS_COLOR: Record<Status, 'default' | 'processing' | 'success' | 'warning' | 'error'> = {
  idle: 'default',
  connecting: 'processing',
  live: 'success',
  paused: 'warning',
  closed: 'default',
  disconnected: 'error',
  error: 'error',
};

export default function TailPage() {
  const { t, i18n } = useTranslation();
  const fmt = useFormat();
  const { project } = useSession();
  const editor = useRef<QueryEditorHandle>(null);

  const [query, setQuery] = useState('');
  const [status, setStatus] = useState<Status>('idle');
  const [rows, setRows] = useState<LogRecord[]>([]);
  const [held, setHeld] = useState(0);
  const [skipped, setSkipped] = useState(0);
  const [rate, setRate] = useState(0);
  const [received, setReceived] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);
  const [queryError, setQueryError] = useState<QueryError | null>(null);
  const [follow, setFollow] = useState(true);
  const [catalog, setCatalog] = useState<Catalog>({ fields: [], values: {} });
  const [expanded, setExpanded] = useState<string | null>(null);

  const ctl = useRef<AbortController | null>(null);
  const incoming = useRef<LogRecord[]>([]);
  const pausedRef = useRef(false);
  const heldRows = useRef<LogRecord[]>([]);
  const meter = useRef(new RateMeter());
  const counted = useRef(0);
  const scroller = useRef<HTMLDivElement>(null);

  // Field names and recent top values for completion.
  useEffect(() => {
    if (!project) return;
    const c = new AbortController();
    getFields(project, { q: '', from: 'now-1h', to: 'now' }, c.signal)
      .then((f) => {
        const values: Catalog['values'] = {};
        for (const x of f.fields) if (x.top_values) values[x.name] = x.top_values.map((v) => ({ value: v.key, count: v.count }));
        setCatalog({ fields: f.fields.map((x) => ({ name: x.name, types: x.types })), values });
      })
      .catch(() => undefined);
    return () => c.abort();
  }, [project]);

  const retryTimer = useRef<number | undefined>(undefined);
  /** When the stream last said anything (records or the 15 s heartbeat). */
  const lastSeen = useRef(0);
  const stop = useCallback(() => {
    window.clearTimeout(retryTimer.current);
    retryTimer.current = undefined;
    ctl.current?.abort();
    ctl.current = null;
  }, []);

  /** Reconnects after a pause that grows with each failed attempt (1 s, 2 s, … 30 s). */
  const retryLater = (q: string, attempt: number, why: string, afterSeconds?: number) => {
    const delay = afterSeconds ? afterSeconds * 1000 : Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1));
    setStatus('disconnected');
    setProblem(t('tail.retrying', { reason: why, seconds: Math.round(delay / 1000) }));
    retryTimer.current = window.setTimeout(() => void connectRef.current(q, false, attempt), delay);
  };

  const connect = useCallback(
    async (q: string, renewed = false, attempt = 0) => {
      if (!project) return;
      stop();
      const c = new AbortController();
      ctl.current = c;
      setStatus('connecting');
      setProblem(null);
      setQueryError(null);
      let closedReason: string | null = null;
      lastSeen.current = Date.now();
      const onItem = (item: TailItem) => {
        lastSeen.current = Date.now();
        switch (item.kind) {
          case 'record':
            incoming.current.push(item.record as unknown as LogRecord);
            break;
          case 'skipped':
            setSkipped((s) => s + item.count);
            break;
          case 'closed':
            closedReason = item.reason;
            break;
          default:
            break;
        }
      };
      try {
        const res = await openTail(project, q, c.signal);
        if (c.signal.aborted) return;
        setStatus(pausedRef.current ? 'paused' : 'live');
        const openedAt = Date.now();
        await readTail(res.body!, onItem, c.signal);
        if (c.signal.aborted) return;
        if (closedReason !== null) {
          // The server closes a tail when its access token expires (15 min): renew the session
          // and carry on. A tail that closes again at once, or a session that cannot be
          // renewed (revoked: sign-in follows on the next request), stays closed.
          const longLived = Date.now() - openedAt > 10_000;
          if ((!renewed || longLived) && (await api.refresh()) === 'ok') {
            void connect(q, true);
            return;
          }
          setStatus('closed');
          setProblem(closedReason || t('tail.closedByServer'));
        } else {
          // The stream ended without a word (a restart, a proxy, the network): try again.
          retryLater(q, Date.now() - openedAt > 10_000 ? 0 : attempt + 1, t('tail.disconnected'));
        }
      } catch (e) {
        if (isAbort(e) || c.signal.aborted) return;
        if (e instanceof ApiError && e.status === 400) {
          setQueryError({ message: e.message, position: e.position });
          setStatus('error');
          return;
        }
        const transient = !(e instanceof ApiError) || e.kind === 'network' || e.status === 429 || e.status >= 500;
        if (transient && !(e instanceof ApiError && e.kind === 'session')) {
          retryLater(q, attempt + 1, errorText(e, t), e instanceof ApiError ? e.retryAfter : undefined);
          return;
        }
        setStatus('error');
        setProblem(errorText(e, t));
      } finally {
        if (ctl.current === c && c.signal.aborted) ctl.current = null;
      }
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [project, stop, t],
  );
  const connectRef = useRef(connect);
  connectRef.current = connect;
  const watchdog = useRef(() => undefined as void);
  watchdog.current = () => retryLater(query, 1, t('tail.stale'));

  // A stream silent for longer than a few heartbeats is dead even if the socket is not (a proxy
  // in between can keep it open after the server went away): reconnect.
  useEffect(() => {
    const id = window.setInterval(() => {
      if (!ctl.current || Date.now() - lastSeen.current < STALE_MS) return;
      stop();
      watchdog.current();
    }, 5000);
    return () => window.clearInterval(id);
  }, [stop]);

  // `/` focuses the filter, as on Explore.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const el = e.target as HTMLElement | null;
      const typing = !!el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));
      if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        editor.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // Close the stream when leaving the page or switching projects.
  useEffect(() => () => stop(), [stop, project]);
  useEffect(() => {
    setStatus('idle');
    setRows([]);
  }, [project]);

  // Records arrive in bursts: they join the list a few times a second, not one render each.
  useEffect(() => {
    const id = window.setInterval(() => {
      const batch = incoming.current;
      incoming.current = [];
      const now = Date.now();
      meter.current.add(batch.length, now);
      setRate(meter.current.rate(now));
      if (batch.length === 0) return;
      counted.current += batch.length;
      setReceived(counted.current);
      if (pausedRef.current) {
        heldRows.current.push(...batch);
        if (heldRows.current.length > MAX_ROWS) heldRows.current = heldRows.current.slice(-MAX_ROWS);
        setHeld((h) => h + batch.length);
        return;
      }
      setRows((prev) => {
        const next = prev.concat(batch);
        return next.length > MAX_ROWS ? next.slice(next.length - MAX_ROWS) : next;
      });
    }, FLUSH_MS);
    return () => window.clearInterval(id);
  }, []);

  const start = (q = editor.current?.text() ?? query) => {
    setQuery(q);
    pausedRef.current = false;
    meter.current.reset();
    void connect(q);
  };
  const pause = () => {
    pausedRef.current = true;
    setStatus('paused');
  };
  const resume = () => {
    pausedRef.current = false;
    const held2 = heldRows.current;
    heldRows.current = [];
    setHeld(0);
    setRows((prev) => {
      const next = prev.concat(held2);
      return next.length > MAX_ROWS ? next.slice(next.length - MAX_ROWS) : next;
    });
    setStatus(ctl.current ? 'live' : status);
  };
  const halt = () => {
    stop();
    pausedRef.current = false;
    setStatus('idle');
  };
  const clear = () => {
    setRows([]);
    heldRows.current = [];
    setHeld(0);
    setSkipped(0);
    counted.current = 0;
    setReceived(0);
  };

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 20,
    getItemKey: (i) => rows[i]?.id ?? i,
  });

  // Follow the newest row unless the user scrolled up to read.
  useEffect(() => {
    if (follow && rows.length) virtualizer.scrollToIndex(rows.length - 1, { align: 'end' });
  }, [rows.length, follow, virtualizer]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (atBottom !== follow) setFollow(atBottom);
  };

  const running = status === 'live' || status === 'paused' || status === 'connecting' || (status === 'disconnected' && retryTimer.current !== undefined);

  return (
    <div className="nl-tail">
      <div className="nl-toolbar">
        <QueryEditor
          ref={editor}
          value={query}
          onRun={(text) => start(text)}
          catalog={catalog}
          error={queryError}
          placeholder={t('tail.filterPlaceholder')}
        />
        {!running ? (
          <Button type="primary" icon={<CaretRightOutlined />} onClick={() => start()} data-testid="tail-start">
            {t('tail.start')}
          </Button>
        ) : status === 'paused' ? (
          <Button type="primary" icon={<CaretRightOutlined />} onClick={resume} data-testid="tail-resume">
            {t('tail.resume')}
          </Button>
        ) : (
          <Button icon={<PauseOutlined />} onClick={pause} disabled={status === 'connecting'} data-testid="tail-pause">
            {t('tail.pause')}
          </Button>
        )}
        <Button icon={<StopOutlined />} onClick={halt} disabled={!running} data-testid="tail-stop">
          {t('tail.stop')}
        </Button>
        <Button icon={<ClearOutlined />} onClick={clear} data-testid="tail-clear">
          {t('tail.clear')}
        </Button>
      </div>

      <div className="nl-tail-status">
        <Space size="large" wrap>
          <Badge status={STATUS_COLOR[status]} text={<span data-testid="tail-status">{t(`tail.status.${status}`)}</span>} />
          <Typography.Text data-testid="tail-rate">{t('tail.rate', { rate: fmt.number(Math.round(rate * 10) / 10) })}</Typography.Text>
          <Typography.Text type="secondary">{t('tail.received', { count: received, formatted: fmt.number(received) })}</Typography.Text>
          {status === 'paused' && held > 0 && <Typography.Text type="warning">{t('tail.held', { count: held, formatted: fmt.number(held) })}</Typography.Text>}
          <Space size="small">
            <Switch size="small" checked={follow} onChange={setFollow} aria-label={t('tail.follow')} />
            <Typography.Text type="secondary">{t('tail.follow')}</Typography.Text>
          </Space>
        </Space>
      </div>

      {skipped > 0 && (
        <Alert
          type="warning"
          showIcon
          closable={{ onClose: () => setSkipped(0) }}
          title={t('tail.skipped', { count: skipped, formatted: fmt.number(skipped) })}
          data-testid="tail-skipped"
        />
      )}
      {problem && (
        <Alert
          type={status === 'closed' ? 'info' : 'error'}
          showIcon
          title={problem}
          action={
            <Button size="small" onClick={() => start(query)}>
              {t('tail.reconnect')}
            </Button>
          }
        />
      )}

      <div className="nl-table nl-tail-table" role="table" aria-label={t('nav.tail')}>
        <div className="nl-table-head" role="row">
          <span className="nl-cell nl-c-toggle" />
          <span className="nl-cell nl-c-time" role="columnheader">
            {t('explore.col.time')}
          </span>
          <span className="nl-cell nl-c-level" role="columnheader">
            {t('explore.col.level')}
          </span>
          <span className="nl-cell nl-c-service" role="columnheader">
            {t('explore.col.service')}
          </span>
          <span className="nl-cell nl-c-host" role="columnheader">
            {t('explore.col.host')}
          </span>
          <span className="nl-cell nl-c-message" role="columnheader">
            {t('explore.col.message')}
          </span>
        </div>
        <div ref={scroller} className="nl-table-body" onScroll={onScroll} data-testid="tail-scroller">
          {rows.length === 0 ? (
            <Empty className="nl-empty" description={running ? t('tail.waiting') : t('tail.notStarted')} />
          ) : (
            <div style={{ height: virtualizer.getTotalSize(), position: 'relative', width: '100%' }}>
              {virtualizer.getVirtualItems().map((item) => {
                const r = rows[item.index];
                const open = expanded === r.id;
                return (
                  <div key={item.key} data-index={item.index} ref={virtualizer.measureElement} className="nl-vrow" style={{ transform: `translateY(${item.start}px)` }}>
                    <div className={`nl-row${open ? ' nl-row-open' : ''}`}>
                      <div
                        className="nl-row-main"
                        role="row"
                        tabIndex={0}
                        aria-expanded={open}
                        onClick={() => setExpanded(open ? null : r.id)}
                        onKeyDown={(e) => {
                          if (e.key === 'Enter' || e.key === ' ') {
                            e.preventDefault();
                            setExpanded(open ? null : r.id);
                          }
                        }}
                      >
                        <span className="nl-cell nl-c-toggle">{open ? <DownOutlined /> : <RightOutlined />}</span>
                        <span className="nl-cell nl-c-time">{formatDateTime(r.timestamp, i18n.language)}</span>
                        <span className="nl-cell nl-c-level">
                          <LevelBadge level={r.level} />
                        </span>
                        <span className="nl-cell nl-c-service">{r.service}</span>
                        <span className="nl-cell nl-c-host">{r.host}</span>
                        <span className="nl-cell nl-c-message">{r.message}</span>
                      </div>
                      {open && <pre className="nl-json nl-tail-json">{recordJson(r)}</pre>}
                    </div>
                  </div>
                );
              })}
            </div>
          )}
        </div>
      </div>
    </div>
  );
}
