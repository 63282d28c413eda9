// One dashboard: its widgets on a grid (drag by the title, resize by the corner; saved as you go
// when you may change it), a shared time range, auto-refresh and variables kept in the URL, and
// every widget's data from one render call.

import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Alert, App, Button, Dropdown, Empty, Popconfirm, Select, Space, Spin, Tag, theme as antdTheme, Tooltip, Typography } from 'antd';
import { ArrowLeftOutlined, DeleteOutlined, DownloadOutlined, EditOutlined, MoreOutlined, PlusOutlined, ReloadOutlined, SettingOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useNavigate, useSearchParams } from 'react-router';
import ReactGridLayout, { useContainerWidth, type Layout } from 'react-grid-layout';
import 'react-grid-layout/css/styles.css';
import { ApiError, isAbort } from '../../api';
import { ErrorAlert } from '../../components/ErrorAlert';
import { errorText } from '../../components/errors';
import { Notice } from '../../components/Notice';
import { TimePicker } from '../../components/TimePicker';
import { mayChange } from '../../documents';
import { useLoad } from '../../hooks/useLoad';
import { useFormat } from '../../i18n/format';
import { useSession } from '../../session';
import { checkRange, quickRange, type TimeRange } from '../../time/range';
import { exportDashboard, getDashboard, renderDashboard, updateDashboard, type Dashboard, type RenderAnswer, type Widget } from './api';
import { downloadJson } from './download';
import { applyLayout, dashboardBody, exportFileName, GRID_COLS, REFRESH_CHOICES, refreshMs, ROW_HEIGHT, toLayout, VAR_PREFIX, variablesFromParams } from './model';
import { WidgetBody } from './WidgetBody';

const WidgetEditor = lazy(() => import('./WidgetEditor'));
const DashboardSettings = lazy(() => import('./DashboardSettings'));

type Render = { loading: boolean; data?: RenderAnswer; error?: unknown };

export default function DashboardView({ project, id }: { project: string; id: string }) {
  const { t, i18n } = useTranslation('dashboards');
  const { t: tc } = useTranslation();
  const fmt = useFormat();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const session = useSession();
  const [params, setParams] = useSearchParams();
  const loaded = useLoad((signal) => getDashboard(project, id, signal), [project, id]);
  // `doc` is what the page shows (a change shows at once); `saved` the server's last answer,
  // which is what render runs.
  const [doc, setDoc] = useState<Dashboard | null>(null);
  const [saved, setSaved] = useState<Dashboard | null>(null);
  useEffect(() => {
    if (loaded.data) {
      setDoc(loaded.data);
      setSaved(loaded.data);
    }
  }, [loaded.data]);

  const caller = { userId: session.me?.user.id, isAdmin: !!session.me?.user.is_admin, role: session.role, can: session.can };
  const canEdit = !!doc && mayChange(doc.owner, caller, 'dashboards_write');

  const range: TimeRange = {
    from: params.get('from') ?? saved?.time_range?.from ?? 'now-1h',
    to: params.get('to') ?? saved?.time_range?.to ?? 'now',
  };
  const rangeProblem = checkRange(range);
  const refresh = params.get('refresh') ?? saved?.refresh ?? '';
  const chosen = useMemo(() => variablesFromParams(params), [params]);
  const chosenKey = JSON.stringify(chosen);

  const setParam = useCallback(
    (changes: Record<string, string | null>, push = false) =>
      setParams(
        (p) => {
          const next = new URLSearchParams(p);
          for (const [k, v] of Object.entries(changes)) {
            if (v === null) next.delete(k);
            else next.set(k, v);
          }
          next.set('project', project);
          return next;
        },
        { replace: !push },
      ),
    [setParams, project],
  );

  // What the data depends on: the widgets' queries and aggregations, and the variables.
  const renderKey = saved ? JSON.stringify([saved.widgets.map((w) => [w.id, w.type, w.query, w.aggregation]), saved.variables ?? []]) : '';
  const [nonce, setNonce] = useState(0);
  const [render, setRender] = useState<Render>({ loading: true });
  useEffect(() => {
    if (!renderKey || rangeProblem) return;
    const ctl = new AbortController();
    setRender((r) => ({ ...r, loading: true, error: undefined }));
    renderDashboard(project, id, { from: range.from, to: range.to || 'now' }, chosen, ctl.signal)
      .then((data) => setRender({ loading: false, data }))
      .catch((error: unknown) => !isAbort(error) && !ctl.signal.aborted && setRender((r) => ({ loading: false, error, data: r.data })));
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [project, id, renderKey, range.from, range.to, chosenKey, nonce, rangeProblem]);

  // Auto-refresh, while the tab is visible.
  useEffect(() => {
    const ms = refreshMs(refresh);
    if (!ms) return;
    const timer = setInterval(() => {
      if (!document.hidden) setNonce((n) => n + 1);
    }, ms);
    return () => clearInterval(timer);
  }, [refresh]);

  // Saves one after another, in the order made; the page shows the change at once.
  const queue = useRef<Promise<unknown>>(Promise.resolve());
  const seq = useRef(0);
  const save = useCallback(
    (next: Dashboard): Promise<Dashboard> => {
      const mine = ++seq.current;
      setDoc(next);
      const run = queue.current.then(() => updateDashboard(project, id, dashboardBody(next)));
      queue.current = run.catch(() => undefined);
      return run.then(
        (s) => {
          setSaved(s);
          if (mine === seq.current) setDoc(s);
          return s;
        },
        (e: unknown) => {
          if (mine === seq.current) setDoc((cur) => (cur === next ? saved : cur));
          throw e;
        },
      );
    },
    [project, id, saved],
  );
  const saveQuietly = (next: Dashboard) => void save(next).catch((e: unknown) => message.error(errorText(e, i18n.t)));

  const [editing, setEditing] = useState<{ widget?: Widget } | null>(null);
  const [settingsOpen, setSettingsOpen] = useState(false);

  const onLayoutStop = (layout: Layout) => {
    if (!doc || !canEdit) return;
    const widgets = applyLayout(doc.widgets, layout);
    if (widgets !== doc.widgets) saveQuietly({ ...doc, widgets });
  };

  const removeWidget = (w: Widget) => {
    if (!doc) return;
    saveQuietly({ ...doc, widgets: doc.widgets.filter((x) => x.id !== w.id) });
  };

  const download = async () => {
    try {
      downloadJson(exportFileName(doc?.name ?? ''), await exportDashboard(project, id));
    } catch (e) {
      message.error(errorText(e, i18n.t));
    }
  };

  if (loaded.error && !doc) {
    const missing = loaded.error instanceof ApiError && loaded.error.status === 404;
    return (
      <div style={{ padding: 16 }}>
        {missing ? (
          <Notice kind="missing" title={t('view.missing')} extra={<Button onClick={() => navigate('/dashboards')}>{t('view.back')}</Button>} />
        ) : (
          <ErrorAlert error={loaded.error} onRetry={loaded.reload} />
        )}
      </div>
    );
  }
  if (!doc) {
    return (
      <div className="nl-center">
        <Spin description={t('common.loading')} />
      </div>
    );
  }

  const variables = doc.variables ?? [];

  return (
    <div className="nl-dashboard">
      <div className="nl-dashboard-bar">
        <Space size="small" wrap className="nl-dashboard-title">
          <Tooltip title={t('view.back')}>
            <Button type="text" icon={<ArrowLeftOutlined />} aria-label={t('view.back')} onClick={() => navigate('/dashboards')} />
          </Tooltip>
          <Typography.Title level={4} style={{ margin: 0 }} data-testid="dashboard-name">
            {doc.name}
          </Typography.Title>
          {!doc.shared && <Tag>{t('list.private')}</Tag>}
          {doc.description && <Typography.Text type="secondary">{doc.description}</Typography.Text>}
        </Space>
        <Space size="small" wrap>
          {variables.map((v) => {
            const values = render.data?.variables[v.name]?.values ?? [];
            return (
              <Space.Compact key={v.name}>
                <span className="nl-var-label">${v.name}</span>
                <Select
                  size="middle"
                  showSearch
                  aria-label={t('vars.choose', { name: v.name })}
                  data-testid={`var-${v.name}`}
                  style={{ minWidth: 140 }}
                  value={chosen[v.name] ?? v.default ?? '*'}
                  onChange={(value: string) => setParam({ [`${VAR_PREFIX}${v.name}`]: value })}
                  options={[{ value: '*', label: t('vars.any') }, ...values.map((x) => ({ value: String(x), label: String(x) }))]}
                />
              </Space.Compact>
            );
          })}
          <TimePicker value={range} onChange={(r) => setParam({ from: r.from, to: r.to || 'now' }, true)} />
          <Select
            aria-label={t('view.autoRefresh')}
            data-testid="refresh-select"
            style={{ width: 120 }}
            value={refresh}
            onChange={(v: string) => setParam({ refresh: v })}
            options={[...new Set([...REFRESH_CHOICES, refresh])].map((r) => ({ value: r, label: r ? t('view.every', { interval: r }) : t('view.refreshOff') }))}
          />
          <Tooltip title={t('common.refresh')}>
            <Button icon={<ReloadOutlined />} aria-label={t('common.refresh')} loading={render.loading && !!render.data} onClick={() => setNonce((n) => n + 1)} data-testid="dashboard-refresh" />
          </Tooltip>
          {canEdit && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing({})} data-testid="widget-add">
              {t('view.addWidget')}
            </Button>
          )}
          <Dropdown
            trigger={['click']}
            menu={{
              items: [
                { key: 'export', icon: <DownloadOutlined />, label: t('list.export'), onClick: () => void download() },
                ...(canEdit ? [{ key: 'settings', icon: <SettingOutlined />, label: t('view.settings'), onClick: () => setSettingsOpen(true) }] : []),
              ],
            }}
          >
            <Button icon={<MoreOutlined />} aria-label={t('view.more')} data-testid="dashboard-more" />
          </Dropdown>
        </Space>
      </div>

      {rangeProblem && (
        <Alert
          type="warning"
          showIcon
          title={tc(rangeProblem === 'empty' ? 'time.empty' : 'time.invalid')}
          action={
            <Button size="small" onClick={() => setParam({ ...quickRange('1h') }, true)}>
              {tc('time.quick.1h')}
            </Button>
          }
        />
      )}
      {render.error !== undefined && <ErrorAlert error={render.error} onRetry={() => setNonce((n) => n + 1)} style={{ margin: '0 12px' }} />}
      {render.data && (
        <Typography.Text type="secondary" className="nl-small nl-dashboard-meta">
          {t('view.rendered', { from: fmt.dateTime(render.data.from, 'short'), to: fmt.dateTime(render.data.to, 'short'), ms: fmt.number(render.data.took_ms) })}
        </Typography.Text>
      )}

      <div className="nl-dashboard-grid">
        {doc.widgets.length === 0 ? (
          <Empty className="nl-empty" description={canEdit ? t('view.emptyWrite') : t('view.empty')}>
            {canEdit && (
              <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing({})}>
                {t('view.addWidget')}
              </Button>
            )}
          </Empty>
        ) : (
          <WidgetGrid
            widgets={doc.widgets}
            render={render}
            canEdit={canEdit}
            onLayout={onLayoutStop}
            onEdit={(w) => setEditing({ widget: w })}
            onDelete={removeWidget}
          />
        )}
      </div>

      {canEdit && editing !== null && (
        <Suspense fallback={null}>
          <WidgetEditor
            project={project}
            dashboard={doc}
            widget={editing.widget}
            range={range}
            chosen={chosen}
            onClose={() => setEditing(null)}
            onSave={async (widgets) => {
              await save({ ...doc, widgets });
              setEditing(null);
              message.success(t('widget.saved'));
            }}
          />
        </Suspense>
      )}
      {canEdit && settingsOpen && (
        <Suspense fallback={null}>
          <DashboardSettings
            dashboard={doc}
            range={range}
            onClose={() => setSettingsOpen(false)}
            onSave={async (next) => {
              await save(next);
              setSettingsOpen(false);
              message.success(t('settings.saved'));
            }}
          />
        </Suspense>
      )}
    </div>
  );
}

/** The widgets on the grid; mounted once there are widgets, so it measures its own width. */
function WidgetGrid({
  widgets,
  render,
  canEdit,
  onLayout,
  onEdit,
  onDelete,
}: {
  widgets: Widget[];
  render: Render;
  canEdit: boolean;
  onLayout: (layout: Layout) => void;
  onEdit: (w: Widget) => void;
  onDelete: (w: Widget) => void;
}) {
  const { t } = useTranslation('dashboards');
  const { token } = antdTheme.useToken();
  const { width, containerRef, mounted } = useContainerWidth();
  const results = new Map((render.data?.widgets ?? []).map((r) => [r.id, r]));
  return (
    <div ref={containerRef}>
      {mounted && (
        <ReactGridLayout
          width={width}
          layout={toLayout(widgets)}
          gridConfig={{ cols: GRID_COLS, rowHeight: ROW_HEIGHT, margin: [12, 12] }}
          dragConfig={{ enabled: canEdit, handle: '.nl-widget-drag', cancel: '.nl-widget-actions' }}
          resizeConfig={{ enabled: canEdit }}
          onDragStop={(layout) => onLayout(layout)}
          onResizeStop={(layout) => onLayout(layout)}
        >
          {widgets.map((w) => {
            const r = w.id ? results.get(w.id) : undefined;
            // A widget the last render did not know (just added or changed type): its data is coming.
            const stale = !r || r.type !== w.type;
            return (
              <div key={w.id} className="nl-widget" style={{ background: token.colorBgContainer }} data-testid="widget" data-widget-id={w.id} data-type={w.type} data-title={w.title}>
                <div className={canEdit ? 'nl-widget-head nl-widget-drag' : 'nl-widget-head'}>
                  <Typography.Text strong ellipsis className="nl-widget-title">
                    {w.title}
                  </Typography.Text>
                  {canEdit && (
                    <span className="nl-widget-actions">
                      <Button size="small" type="text" icon={<EditOutlined />} aria-label={t('widget.edit', { title: w.title })} onClick={() => onEdit(w)} />
                      <Popconfirm
                        title={t('widget.deleteConfirm', { title: w.title })}
                        okText={t('common.delete')}
                        cancelText={t('common.cancel')}
                        okButtonProps={{ danger: true }}
                        onConfirm={() => onDelete(w)}
                      >
                        <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={t('widget.delete', { title: w.title })} />
                      </Popconfirm>
                    </span>
                  )}
                </div>
                <div className="nl-widget-body">
                  <WidgetBody widget={w} data={stale ? undefined : r?.data} error={stale ? null : r?.error} loading={render.loading || (stale && render.error === undefined)} />
                </div>
              </div>
            );
          })}
        </ReactGridLayout>
      )}
    </div>
  );
}
