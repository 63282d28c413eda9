import { lazy, Suspense, useEffect, useState } from 'react';
import { App, Badge, Button, Empty, Popconfirm, Popover, Space, Switch, Table, Tag, Typography } from 'antd';
import { DeleteOutlined, EditOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { ErrorAlert } from '../../components/ErrorAlert';
import { errorText } from '../../components/errors';
import { useFormat } from '../../i18n/format';
import { deleteRule, getRule, listChannels, listRules, updateRule, type Rule } from './api';
import { pooled } from './chartData';
import { formToRule, ruleToForm } from './ruleForm';
import { conditionText, groupText, summarizeState, type StateSummary } from './state';
import { useLoad } from '../../hooks/useLoad';

// The editor (query editor, chart) loads when first opened: the list needs neither.
const RuleEditor = lazy(() => import('./RuleEditor').then((m) => ({ default: m.RuleEditor })));

export const STATE_COLORS: Record<StateSummary['state'], string> = {
  ok: 'success',
  pending: 'warning',
  firing: 'error',
  disabled: 'default',
  unknown: 'default',
};
export const SEVERITY_COLORS = { info: 'blue', warning: 'orange', critical: 'red' } as const;

export function RulesTab({ project, canWrite }: { project: string; canWrite: boolean }) {
  const { t, i18n } = useTranslation('alerts');
  const fmt = useFormat();
  const { message } = App.useApp();
  // Each rule's GET has its state; a list that carries it already saves those requests.
  const rules = useLoad(
    async (signal) => {
      const { rules } = await listRules(project, signal);
      return pooled(rules.map((r) => () => (r.state ? Promise.resolve(r) : getRule(project, r.id, signal).catch(() => r))), 4);
    },
    [project],
  );
  const channels = useLoad((signal) => listChannels(project, signal).then((c) => c.channels), [project]);
  const [editing, setEditing] = useState<{ rule?: Rule } | null>(null);
  const { reload } = rules;

  useEffect(() => {
    const id = setInterval(reload, 15_000);
    return () => clearInterval(id);
  }, [reload]);

  const toggle = async (r: Rule, enabled: boolean) => {
    try {
      await updateRule(project, r.id, formToRule({ ...ruleToForm(r), enabled }));
      reload();
    } catch (e) {
      message.error(errorText(e, i18n.t));
    }
  };
  const remove = async (r: Rule) => {
    try {
      await deleteRule(project, r.id);
      message.success(t('rules.deleted', { name: r.name }));
      reload();
    } catch (e) {
      message.error(errorText(e, i18n.t));
    }
  };

  if (rules.error && !rules.data) return <ErrorAlert error={rules.error} onRetry={reload} />;

  return (
    <>
      <div style={{ marginBottom: 12, display: "flex", justifyContent: "space-between" }}>
        <Space>
          {canWrite && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing({})} data-testid="rule-new">
              {t('rules.new')}
            </Button>
          )}
          <Button icon={<ReloadOutlined />} onClick={reload} loading={rules.loading}>
            {t('common.refresh')}
          </Button>
        </Space>
      </div>
      {rules.error !== null && <ErrorAlert error={rules.error} style={{ marginBottom: 12 }} />}
      <Table<Rule>
        rowKey="id"
        size="middle"
        loading={rules.loading && !rules.data}
        dataSource={rules.data ?? []}
        pagination={false}
        locale={{ emptyText: <Empty description={canWrite ? t('rules.emptyWrite') : t('rules.empty')} /> }}
        expandable={{
          rowExpandable: (r) => (r.state?.groups.length ?? 0) > 0,
          expandedRowRender: (r) => (
            <Table
              size="small"
              rowKey={(g) => g.group.join('\u0000')}
              pagination={false}
              dataSource={r.state?.groups ?? []}
              columns={[
                { title: t('rules.group'), render: (_, g) => groupText(g.group) },
                { title: t('rules.state'), render: (_, g) => <Badge status={STATE_COLORS[g.state] as 'success'} text={t(`state.${g.state}`)} /> },
                { title: t('rules.value'), render: (_, g) => (g.value === null ? '—' : fmt.number(g.value)) },
                { title: t('rules.since'), render: (_, g) => (g.since ? fmt.dateTime(g.since) : '—') },
              ]}
            />
          ),
        }}
        columns={[
          {
            title: t('rules.name'),
            dataIndex: 'name',
            render: (name: string, r) => (
              <Space orientation="vertical" size={0}>
                {canWrite ? (
                  <Typography.Link onClick={() => setEditing({ rule: r })}>{name}</Typography.Link>
                ) : (
                  <Typography.Text strong>{name}</Typography.Text>
                )}
                <Typography.Text type="secondary" code style={{ fontSize: 12 }}>
                  {r.query || '*'}
                </Typography.Text>
              </Space>
            ),
          },
          {
            title: t('rules.state'),
            width: 170,
            render: (_, r) => {
              const s = summarizeState(r, r.state);
              const badge = <Badge status={STATE_COLORS[s.state] as 'success'} text={t(`state.${s.state}`)} />;
              if (s.state === 'disabled' || s.state === 'unknown') return badge;
              return (
                <Popover
                  content={t('rules.groupCounts', { firing: s.counts.firing, pending: s.counts.pending, ok: s.counts.ok })}
                >
                  <span data-testid="rule-state">{badge}</span>
                </Popover>
              );
            },
          },
          {
            title: t('rules.condition'),
            render: (_, r) => (
              <span>
                {conditionText(r, t('kind.absenceShort'))}{' '}
                <Typography.Text type="secondary">{t('rules.per', { window: r.window })}</Typography.Text>
                {r.group_by.length > 0 && <Typography.Text type="secondary">{` · ${t('rules.by', { fields: r.group_by.join(', ') })}`}</Typography.Text>}
              </span>
            ),
          },
          { title: t('rules.severity'), width: 110, render: (_, r) => <Tag color={SEVERITY_COLORS[r.severity]}>{t(`severity.${r.severity}`)}</Tag> },
          {
            title: t('rules.channels'),
            render: (_, r) =>
              r.channels.length === 0 ? (
                <Typography.Text type="secondary">—</Typography.Text>
              ) : (
                r.channels.map((id) => <Tag key={id}>{channels.data?.find((c) => c.id === id)?.name ?? id.slice(0, 8)}</Tag>)
              ),
          },
          ...(canWrite
            ? [
                {
                  title: t('rules.enabled'),
                  width: 90,
                  render: (_: unknown, r: Rule) => (
                    <Switch size="small" checked={r.enabled} onChange={(v) => void toggle(r, v)} aria-label={t('rules.enabled')} />
                  ),
                },
                {
                  title: '',
                  width: 100,
                  render: (_: unknown, r: Rule) => (
                    <Space>
                      <Button size="small" type="text" icon={<EditOutlined />} aria-label={t('common.edit')} onClick={() => setEditing({ rule: r })} />
                      <Popconfirm
                        title={t('rules.deleteConfirm', { name: r.name })}
                        okText={t('common.delete')}
                        cancelText={t('common.cancel')}
                        okButtonProps={{ danger: true }}
                        onConfirm={() => remove(r)}
                      >
                        <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={t('common.delete')} />
                      </Popconfirm>
                    </Space>
                  ),
                },
              ]
            : []),
        ]}
      />
      {canWrite && editing !== null && (
        <Suspense fallback={null}>
          <RuleEditor
            project={project}
            open={editing !== null}
            rule={editing?.rule}
            channels={channels.data ?? []}
            onClose={() => setEditing(null)}
            onSaved={() => {
              setEditing(null);
              reload();
            }}
          />
        </Suspense>
      )}
    </>
  );
}
