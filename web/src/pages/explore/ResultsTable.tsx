import { memo, useCallback, useEffect, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { RightOutlined, DownOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import type { LogRecord } from '../../api';
import { Highlighted } from '../../components/Highlighted';
import { formatDateTime } from '../../i18n/format';
import { LevelBadge } from '../../components/Level';
import { RecordDetail } from './RecordDetail';
import { ROW_HEIGHT } from './record';

interface Props {
  hits: LogRecord[];
  onFilter: (field: string, value: unknown, exclude: boolean) => void;
  /** Resets scrolling and expansion when a new result arrives. */
  resultKey: string;
}

/** A Performance mark set once a result's rows are on screen; the e2e's render budget reads it. */
const RENDERED_MARK = 'nexuslog.explore.rendered';

const Row = memo(function Row({
  record,
  expanded,
  locale,
  onToggle,
  onFilter,
}: {
  record: LogRecord;
  expanded: boolean;
  locale: string;
  onToggle: (id: string) => void;
  onFilter: Props['onFilter'];
}) {
  return (
    <div className={`nl-row${expanded ? ' nl-row-open' : ''}`}>
      <div
        className="nl-row-main"
        role="row"
        tabIndex={0}
        aria-expanded={expanded}
        onClick={() => onToggle(record.id)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            onToggle(record.id);
          }
        }}
      >
        <span className="nl-cell nl-c-toggle">{expanded ? <DownOutlined /> : <RightOutlined />}</span>
        <span className="nl-cell nl-c-time" title={record.timestamp}>
          {formatDateTime(record.timestamp, locale)}
        </span>
        <span className="nl-cell nl-c-level">
          <LevelBadge level={record.level} />
        </span>
        <span className="nl-cell nl-c-service" title={record.service ?? ''}>
          {record.service}
        </span>
        <span className="nl-cell nl-c-host" title={record.host ?? ''}>
          {record.host}
        </span>
        <span className="nl-cell nl-c-message">
          <Highlighted text={record.message} spans={record.highlight?.message} />
        </span>
      </div>
      {expanded && <RecordDetail record={record} onFilter={onFilter} />}
    </div>
  );
});

export function ResultsTable({ hits, onFilter, resultKey }: Props) {
  const { t, i18n } = useTranslation();
  const scroller = useRef<HTMLDivElement>(null);
  const [expanded, setExpanded] = useState<Set<string>>(() => new Set());

  useEffect(() => {
    setExpanded(new Set());
    scroller.current?.scrollTo({ top: 0 });
  }, [resultKey]);

  // After the commit, the next frame, then a task: the rows have been painted.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const frame = requestAnimationFrame(() => {
      timer = setTimeout(() => performance.mark(RENDERED_MARK, { detail: { rows: hits.length } }));
    });
    return () => {
      cancelAnimationFrame(frame);
      clearTimeout(timer);
    };
  }, [hits]);

  const virtualizer = useVirtualizer({
    count: hits.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 15,
    getItemKey: (i) => hits[i]?.id ?? i,
  });

  const onToggle = useCallback((id: string) => {
    setExpanded((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }, []);

  const items = virtualizer.getVirtualItems();
  return (
    <div className="nl-table" role="table" aria-label={t('explore.results')} aria-rowcount={hits.length}>
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
      <div ref={scroller} className="nl-table-body" data-testid="results-scroller">
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative', width: '100%' }}>
          {items.map((item) => {
            const record = hits[item.index];
            return (
              <div
                key={item.key}
                data-index={item.index}
                ref={virtualizer.measureElement}
                className="nl-vrow"
                style={{ transform: `translateY(${item.start}px)` }}
              >
                <Row record={record} expanded={expanded.has(record.id)} locale={i18n.language} onToggle={onToggle} onFilter={onFilter} />
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
