import { useMemo, useState } from 'react';
import { Alert, App, Button, Empty, Form, Input, Modal, Popconfirm, Select, Space, Table, Tag, Typography } from 'antd';
import { ReloadOutlined, UserAddOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import type { Role } from '../../api';
import { ErrorAlert } from '../../components/ErrorAlert';
import { errorText } from '../../components/errors';
import { useSession } from '../../session';
import { type Invitation, invite, listMembers, type Member, removeMember, setMemberRole } from './api';
import { type Actor, canManage, grantableRoles, isLastOwner, roleOptions } from './roles';
import { Secret } from './Secret';
import { useLoad } from '../../hooks/useLoad';

export function MembersTab({ project, actor }: { project: string; actor: Actor }) {
  const { t } = useTranslation('settings');
  const { t: tc } = useTranslation();
  const { message } = App.useApp();
  const session = useSession();
  const members = useLoad((s) => listMembers(project, s), [project]);
  const [inviting, setInviting] = useState(false);
  const [busy, setBusy] = useState(false);
  const [inviteError, setInviteError] = useState<unknown>(null);
  const [invitation, setInvitation] = useState<Invitation | null>(null);
  const [pending, setPending] = useState<string | null>(null);
  const [form] = Form.useForm<{ email: string; role: Role }>();
  const grantable = grantableRoles(actor);
  const rows = useMemo(() => members.data?.members ?? [], [members.data]);
  const me = session.me?.user.id;
  const roleLabel = (r: Role) => tc(`roles.${r}`);

  const change = async (m: Member, role: Role) => {
    setPending(m.user_id);
    try {
      await setMemberRole(project, m.user_id, role);
      void message.success(t('members.roleChanged', { email: m.email, role: roleLabel(role) }));
      members.reload();
      if (m.user_id === me) session.reload();
    } catch (e) {
      void message.error(errorText(e, tc));
    } finally {
      setPending(null);
    }
  };

  const remove = async (m: Member) => {
    setPending(m.user_id);
    try {
      await removeMember(project, m.user_id);
      void message.success(t('members.removed', { email: m.email }));
      members.reload();
      if (m.user_id === me) session.reload();
    } catch (e) {
      void message.error(errorText(e, tc));
    } finally {
      setPending(null);
    }
  };

  const submitInvite = async (v: { email: string; role: Role }) => {
    setBusy(true);
    setInviteError(null);
    try {
      setInvitation(await invite(project, v.email.trim(), v.role));
    } catch (e) {
      setInviteError(e);
    } finally {
      setBusy(false);
    }
  };

  const closeInvite = () => {
    setInviting(false);
    setInvitation(null);
    setInviteError(null);
    form.resetFields();
  };

  return (
    <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }}>
        {actor.canWrite ? (
          <Button type="primary" icon={<UserAddOutlined />} onClick={() => setInviting(true)}>
            {t('members.invite')}
          </Button>
        ) : (
          <Typography.Text type="secondary">{t('members.readOnly')}</Typography.Text>
        )}
        <Button icon={<ReloadOutlined />} onClick={members.reload} aria-label={t('common.refresh')} />
      </Space>
      {members.error ? <ErrorAlert error={members.error} onRetry={members.reload} /> : null}
      <Table<Member>
        rowKey="user_id"
        size="small"
        loading={members.loading}
        dataSource={rows}
        pagination={rows.length > 20 ? { pageSize: 20 } : false}
        locale={{ emptyText: members.loading ? ' ' : <Empty description={t('members.empty')} /> }}
        columns={[
          {
            title: t('members.user'),
            key: 'user',
            render: (_, m) => (
              <Space orientation="vertical" size={0}>
                <Space size={4}>
                  <Typography.Text strong>{m.name || m.email}</Typography.Text>
                  {m.user_id === me && <Tag>{t('members.you')}</Tag>}
                  {m.disabled && <Tag color="red">{t('members.disabled')}</Tag>}
                </Space>
                {m.name && <Typography.Text type="secondary">{m.email}</Typography.Text>}
              </Space>
            ),
          },
          {
            title: t('members.role'),
            dataIndex: 'role',
            width: 200,
            render: (role: Role, m) => {
              if (!canManage(actor, role)) return <Tag>{roleLabel(role)}</Tag>;
              const last = isLastOwner(rows, m.user_id);
              return (
                <Select<Role>
                  size="small"
                  style={{ width: 160 }}
                  value={role}
                  disabled={pending === m.user_id}
                  aria-label={`${t('members.role')}: ${m.email}`}
                  onChange={(r) => void change(m, r)}
                  options={roleOptions(actor, role).map((r) => ({
                    value: r,
                    label: roleLabel(r),
                    disabled: (r !== role && !grantable.includes(r)) || (last && r !== 'owner'),
                  }))}
                />
              );
            },
          },
          ...(actor.canWrite
            ? [
                {
                  title: t('common.actions'),
                  key: 'actions',
                  width: 120,
                  render: (_: unknown, m: Member) => {
                    if (!canManage(actor, m.role)) return null;
                    const last = isLastOwner(rows, m.user_id);
                    return (
                      <Popconfirm
                        title={t('members.removeConfirm', { email: m.email })}
                        okText={t('members.removeOk')}
                        cancelText={t('common.cancel')}
                        okButtonProps={{ danger: true }}
                        onConfirm={() => remove(m)}
                        disabled={last}
                      >
                        <Button size="small" danger disabled={last || pending === m.user_id} title={last ? t('members.lastOwner') : undefined}>
                          {t('members.remove')}
                        </Button>
                      </Popconfirm>
                    );
                  },
                },
              ]
            : []),
        ]}
      />
      <Modal
        open={inviting}
        title={invitation ? t('members.inviteCreated', { email: invitation.email, role: roleLabel(invitation.role) }) : t('members.inviteTitle')}
        onCancel={closeInvite}
        maskClosable={!invitation}
        destroyOnHidden
        footer={
          invitation ? (
            <Button type="primary" onClick={closeInvite}>
              {t('common.done')}
            </Button>
          ) : (
            <Space>
              <Button onClick={closeInvite}>{t('common.cancel')}</Button>
              <Button type="primary" loading={busy} onClick={() => form.submit()}>
                {t('members.inviteSend')}
              </Button>
            </Space>
          )
        }
      >
        {invitation ? (
          <Space orientation="vertical" style={{ width: '100%' }}>
            <Alert
              type="info"
              showIcon
              title={t(invitation.token ? 'members.inviteHint' : 'members.inviteEmailed', {
                email: invitation.email,
                role: roleLabel(invitation.role),
                hours: Math.round(invitation.expires_in / 3600),
              })}
            />
            {invitation.token ? <Secret value={invitation.token} testId="invitation-token" label={t('members.inviteToken')} /> : null}
          </Space>
        ) : (
          <Form form={form} layout="vertical" onFinish={(v) => void submitInvite(v)} initialValues={{ role: 'viewer' }} requiredMark={false}>
            {inviteError ? <ErrorAlert error={inviteError} style={{ marginBottom: 16 }} /> : null}
            <Form.Item name="email" label={t('members.email')} rules={[{ required: true, type: 'email', message: t('members.emailRequired') }]}>
              <Input autoFocus inputMode="email" />
            </Form.Item>
            <Form.Item name="role" label={t('members.role')}>
              <Select options={grantable.map((r) => ({ value: r, label: roleLabel(r) }))} />
            </Form.Item>
          </Form>
        )}
      </Modal>
    </Space>
  );
}
