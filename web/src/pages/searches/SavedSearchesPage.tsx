// Saved searches: yours and the shared ones; open one in Explore; rename, share, delete the
// ones you may change (yours, or any as a project admin).

import { useState } from 'react';
import { App, Button, Empty, Form, Input, Modal, Popconfirm, Space, Switch, Table, Tag, Tooltip, Typography } from 'antd';
import { DeleteOutlined, EditOutlined, ReloadOutlined, SearchOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ErrorAlert } from '../../components/ErrorAlert';
import { errorText } from '../../components/errors';
import { Notice } from '../../components/Notice';
import { useRangeLabel } from '../../components/TimePicker';
import { isMine, mayChange } from '../../documents';
import { useLoad } from '../../hooks/useLoad';
import { useFormat } from '../../i18n/format';
import { useSession } from '../../session';
import { deleteSearch, listSearches, updateSearch, type SavedSearch } from './api';
import './i18n';
import { exploreUrl, rangeOf, searchBody } from './logic';

function RangeLabel({ s }: { s: SavedSearch }) {
  return <>{useRangeLabel(rangeOf(s))}</>;
}

export default function SavedSearchesPage() {
  const { t, i18n } = useTranslation('searches');
  const fmt = useFormat();
  const { message } = App.useApp();
  const session = useSession();
  const project = session.project;
  const caller = { userId: session.me?.user.id, isAdmin: !!session.me?.user.is_admin, role: session.role, can: session.can };
  const list = useLoad((signal) => (project ? listSearches(project, signal) : Promise.resolve([])), [project]);
  const [renaming, setRenaming] = useState<SavedSearch | null>(null);
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm<{ name: string }>();

  if (!project) return <Notice kind="info" title={t('title')}>{t('noProject')}</Notice>;

  const change = async (s: SavedSearch, patch: { name?: string; shared?: boolean }, done: string) => {
    try {
      await updateSearch(project, s.id, searchBody(s, patch));
      message.success(done);
      list.reload();
      return true;
    } catch (e) {
      message.error(errorText(e, i18n.t));
      return false;
    }
  };

  const rename = async () => {
    if (!renaming) return;
    let v: { name: string };
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    const ok = await change(renaming, { name: v.name.trim() }, t('renamed', { name: v.name.trim() }));
    setBusy(false);
    if (ok) setRenaming(null);
  };

  const remove = async (s: SavedSearch) => {
    try {
      await deleteSearch(project, s.id);
      message.success(t('deleted', { name: s.name }));
      list.reload();
    } catch (e) {
      message.error(errorText(e, i18n.t));
    }
  };

  return (
    <div style={{ padding: 16, flex: 1, minHeight: 0, overflow: 'auto' }}>
      <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', marginBottom: 12, gap: 12, flexWrap: 'wrap' }}>
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('title')}
        </Typography.Title>
        <Button icon={<ReloadOutlined />} onClick={list.reload} loading={list.loading && !!list.data}>
          {t('refresh')}
        </Button>
      </div>
      {list.error !== null && <ErrorAlert error={list.error} onRetry={list.reload} style={{ marginBottom: 12 }} />}
      <Table<SavedSearch>
        rowKey="id"
        size="middle"
        loading={list.loading && !list.data}
        dataSource={list.data ?? []}
        pagination={false}
        data-testid="saved-searches"
        locale={{
          emptyText: (
            <Empty description={t('empty')}>
              <Link to="/explore">{t('goExplore')}</Link>
            </Empty>
          ),
        }}
        columns={[
          {
            title: t('name'),
            dataIndex: 'name',
            render: (name: string, s) => (
              <Space orientation="vertical" size={0}>
                <Link to={exploreUrl(s, project)} data-testid="saved-search-open">
                  {name}
                </Link>
                <Typography.Text type="secondary" code style={{ fontSize: 12 }}>
                  {s.query || '*'}
                </Typography.Text>
              </Space>
            ),
          },
          { title: t('range'), width: 220, render: (_, s) => <RangeLabel s={s} /> },
          {
            title: t('visibility'),
            width: 170,
            render: (_, s) =>
              mayChange(s.owner, caller, 'saved_queries_write') ? (
                <Space size={6}>
                  <Switch
                    size="small"
                    checked={s.shared}
                    aria-label={t('shared')}
                    onChange={(shared) => void change(s, { shared }, shared ? t('nowShared', { name: s.name }) : t('nowPrivate', { name: s.name }))}
                  />
                  <span>{s.shared ? t('shared') : t('private')}</span>
                  {isMine(s.owner, caller) && <Tag>{t('yours')}</Tag>}
                </Space>
              ) : (
                <Space size={4}>
                  <Tag color={s.shared ? 'blue' : 'default'}>{s.shared ? t('shared') : t('private')}</Tag>
                  {isMine(s.owner, caller) && <Tag>{t('yours')}</Tag>}
                </Space>
              ),
          },
          { title: t('updated'), width: 180, render: (_, s) => fmt.dateTime(s.updated_at, 'short') },
          {
            title: '',
            width: 120,
            render: (_, s) => (
              <Space>
                <Tooltip title={t('open')}>
                  <Link to={exploreUrl(s, project)} aria-label={t('open')}>
                    <SearchOutlined />
                  </Link>
                </Tooltip>
                {mayChange(s.owner, caller, 'saved_queries_write') && (
                  <>
                    <Button
                      size="small"
                      type="text"
                      icon={<EditOutlined />}
                      aria-label={t('rename')}
                      onClick={() => {
                        form.setFieldsValue({ name: s.name });
                        setRenaming(s);
                      }}
                    />
                    <Popconfirm
                      title={t('deleteConfirm', { name: s.name })}
                      okText={t('delete')}
                      cancelText={t('cancel')}
                      okButtonProps={{ danger: true }}
                      onConfirm={() => remove(s)}
                    >
                      <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={t('delete')} />
                    </Popconfirm>
                  </>
                )}
              </Space>
            ),
          },
        ]}
      />
      <Modal
        open={renaming !== null}
        title={t('renameTitle')}
        onCancel={() => setRenaming(null)}
        onOk={() => void rename()}
        okText={t('save')}
        cancelText={t('cancel')}
        confirmLoading={busy}
        forceRender
      >
        <Form form={form} layout="vertical" onFinish={() => void rename()}>
          <Form.Item name="name" label={t('name')} rules={[{ required: true, whitespace: true, message: t('required') }, { max: 200 }]}>
            <Input />
          </Form.Item>
        </Form>
      </Modal>
    </div>
  );
}
