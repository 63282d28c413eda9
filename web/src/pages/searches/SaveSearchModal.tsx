// Explore's "Save": the current query (and its range, as chosen) as a saved search.

import { useState } from 'react';
import { App, Button, Checkbox, Form, Input, Modal, Switch, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { ErrorAlert } from '../../components/ErrorAlert';
import { useRangeLabel } from '../../components/TimePicker';
import type { TimeRange } from '../../time/range';
import { createSearch } from './api';
import './i18n';
import { newSearch, suggestName } from './logic';

interface Values {
  name: string;
  keepRange: boolean;
  shared: boolean;
}

export default function SaveSearchModal({ project, query, range, onClose }: { project: string; query: string; range: TimeRange; onClose: () => void }) {
  const { t } = useTranslation('searches');
  const { message } = App.useApp();
  const navigate = useNavigate();
  const [form] = Form.useForm<Values>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const rangeLabel = useRangeLabel(range);

  const save = async () => {
    let v: Values;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const s = await createSearch(project, newSearch(v.name, query, v.keepRange ? range : null, v.shared));
      // Messages render outside the router: a link navigates through this page's hook.
      message.success(
        <span>
          {t('saved', { name: s.name })} <Typography.Link onClick={() => void navigate('/searches')}>{t('seeAll')}</Typography.Link>
        </span>,
      );
      onClose();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open
      title={t('saveTitle')}
      onCancel={onClose}
      onOk={() => void save()}
      okText={t('save')}
      cancelText={t('cancel')}
      confirmLoading={busy}
      okButtonProps={{ 'data-testid': 'save-search-submit' } as React.ComponentProps<typeof Button>}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" initialValues={{ name: suggestName(query), keepRange: true, shared: false }} onFinish={() => void save()}>
        <Form.Item name="name" label={t('name')} rules={[{ required: true, whitespace: true, message: t('required') }, { max: 200 }]}>
          <Input autoFocus data-testid="save-search-name" />
        </Form.Item>
        <Form.Item label={t('query')}>
          <Typography.Text code>{query.trim() || '*'}</Typography.Text>
        </Form.Item>
        <Form.Item name="keepRange" valuePropName="checked">
          <Checkbox>{t('keepRange', { range: rangeLabel })}</Checkbox>
        </Form.Item>
        <Form.Item name="shared" label={t('shareWithProject')} valuePropName="checked" extra={t('sharedHint')}>
          <Switch />
        </Form.Item>
      </Form>
      {error !== null && <ErrorAlert error={error} />}
    </Modal>
  );
}
