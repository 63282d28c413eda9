import { useEffect, useState } from 'react';
import { App, Button, Empty, Select, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { CheckOutlined, ReloadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { isAbort } from '../../api';
import { ErrorAlert } from '../../components/ErrorAlert';
import { errorText } from '../../components/errors';
import { useFormat } from '../../i18n/format';
import { ackAlert, listAlerts, listChannels, listRules, type Delivery, type Transition } from './api';
import { groupText } from './state';
import { SEVERITY_COLORS } from './RulesTab';
import { useLoad } from '../../hooks/useLoad';

const PAGE = 50;
const STATE_TAG = { ok: 'success', pending: 'warning', firing: 'error' } as const;
const DELIVERY_TAG: Record<string, string> = { delivered: 'success', pending: 'processing', failed: 'error', silenced: 'default' };

export function HistoryTab({ project, canWrite }: { project: string; canWrite: boolean }) {
  const { t, i18n } = useTranslation('alerts');
  const fmt = useFormat();
  const { message } = App.useApp();
  const [ruleId, setRuleId] = useState<string | undefined>();
  const [more, setMore] = useState<{ items: Transition[]; next: string | null; loading: boolean }>({ items: [], next: null, loading: false });
  const page = useLoad((signal) => listAlerts(project, { rule_id: ruleId, limit: PAGE }, signal), [project, ruleId]);
  const rules = useLoad((signal) => listRules(project, signal).then((r) => r.rules), [project]);
  const channels = useLoad((signal) => listChannels(project, signal).then((c) => c.channels), [project]);

  useEffect(() => setMore({ items: [], next: page.data?.next_before ?? null, loading: false }), [page.data]);

  const items = [...(page.data?.alerts ?? []), ...more.items];
  const loadMore = async () => {
    if (!more.next) return;
    setMore((m) => ({ ...m, loading: true }));
    try {
      const next = await listAlerts(project, { rule_id: ruleId, limit: PAGE, before: more.next });
      setMore((m) => ({ items: [...m.items, ...next.alerts], next: next.next_before, loading: false }));
    } catch (e) {
      if (!isAbort(e)) message.error(errorText(e, i18n.t));
      setMore((m) => ({ ...m, loading: false }));
    }
  };
  const ack = async (a: Transition) => {
    try {
      await ackAlert(project, a.id);
      message.success(t('history.acked'));
      page.reload();
    } catch (e) {
      message.error(errorText(e, i18n.t));
    }
  };
  const channelName = (id: string) => channels.data?.find((c) => c.id === id)?.name ?? id.slice(0, 8);

  if (page.error && !page.data) return <ErrorAlert error={page.error} onRetry={page.reload} />;

  return (
    <>
      <div style={{ marginBottom: 12, display: "flex", justifyContent: "space-between" }}>
        <Space wrap>
          <Select
            allowClear
            style={{ minWidth: 240 }}
            placeholder={t('history.allRules')}
            value={ruleId}
            onChange={setRuleId}
            options={(rules.data ?? []).map((r) => ({ value: r.id, label: r.name }))}
          />
          <Button icon={<ReloadOutlined />} onClick={page.reload} loading={page.loading}>
            {t('common.refresh')}
          </Button>
        </Space>
      </div>
      <Table<Transition>
        rowKey="id"
        size="middle"
        loading={page.loading && !page.data}
        dataSource={items}
        pagination={false}
        locale={{ emptyText: <Empty description={t('history.empty')} /> }}
        expandable={{
          rowExpandable: (a) => a.notifications.length > 0,
          expandedRowRender: (a) => (
            <Table<Delivery>
              size="small"
              rowKey="id"
              pagination={false}
              dataSource={a.notifications}
              expandable={{
                rowExpandable: (d) => d.attempts.length > 0,
                expandedRowRender: (d) => (
                  <Table
                    size="small"
                    rowKey="attempt"
                    pagination={false}
                    dataSource={d.attempts}
                    columns={[
                      { title: t('history.attempt'), dataIndex: 'attempt', width: 90 },
                      { title: t('history.at'), render: (_, x) => fmt.dateTime(x.at) },
                      { title: t('history.result'), render: (_, x) => <Tag color={x.ok ? 'success' : 'error'}>{x.ok ? t('history.ok') : t('history.failed')}</Tag> },
                      { title: t('history.detail'), dataIndex: 'detail' },
                    ]}
                  />
                ),
              }}
              columns={[
                { title: t('history.channel'), render: (_, d) => channelName(d.channel_id) },
                { title: t('history.delivery'), render: (_, d) => <Tag color={DELIVERY_TAG[d.status] ?? 'default'}>{t(`delivery.${d.status}`, { defaultValue: d.status })}</Tag> },
                { title: t('history.attempts'), render: (_, d) => d.attempts.length },
                { title: t('history.lastError'), render: (_, d) => d.last_error ?? '—' },
              ]}
            />
          ),
        }}
        columns={[
          { title: t('history.time'), width: 190, render: (_, a) => <Tooltip title={`${t('history.eventTime')}: ${fmt.dateTime(a.event_time)}`}>{fmt.dateTime(a.recorded_at)}</Tooltip> },
          { title: t('history.rule'), render: (_, a) => a.rule_name },
          { title: t('rules.group'), render: (_, a) => groupText(a.group) },
          {
            title: t('history.transition'),
            render: (_, a) => (
              <Space size={4}>
                <Tag color={STATE_TAG[a.from]}>{t(`state.${a.from}`)}</Tag>→<Tag color={STATE_TAG[a.to]}>{t(`state.${a.to}`)}</Tag>
              </Space>
            ),
          },
          {
            title: t('rules.value'),
            render: (_, a) => (a.value === null ? '—' : `${fmt.number(a.value)}${a.threshold === null ? '' : ` / ${fmt.number(a.threshold)}`}`),
          },
          { title: t('rules.severity'), render: (_, a) => <Tag color={SEVERITY_COLORS[a.severity]}>{t(`severity.${a.severity}`)}</Tag> },
          { title: t('history.message'), render: (_, a) => <Typography.Text style={{ fontSize: 12 }}>{a.message}</Typography.Text> },
          {
            title: t('history.ack'),
            width: 150,
            render: (_, a) =>
              a.acked_at ? (
                <Tooltip title={a.acked_by ?? ''}>
                  <Typography.Text type="secondary">{t('history.ackedAt', { time: fmt.dateTime(a.acked_at, 'short') })}</Typography.Text>
                </Tooltip>
              ) : canWrite && a.to === 'firing' ? (
                <Button size="small" icon={<CheckOutlined />} onClick={() => void ack(a)}>
                  {t('history.acknowledge')}
                </Button>
              ) : (
                '—'
              ),
          },
        ]}
      />
      {more.next && (
        <div style={{ textAlign: 'center', marginTop: 12 }}>
          <Button onClick={() => void loadMore()} loading={more.loading}>
            {t('history.more')}
          </Button>
        </div>
      )}
    </>
  );
}
