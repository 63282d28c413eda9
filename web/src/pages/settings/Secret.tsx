import { App, Button, Input, Space } from 'antd';
import { CopyOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { copyText } from '../../components/copy';

/** A one-time secret with a copy button. */
export function Secret({ value, testId, label }: { value: string; testId: string; label: string }) {
  const { t } = useTranslation('settings');
  const { message } = App.useApp();
  const copy = () =>
    copyText(value).then(
      () => void message.success(t('common.copied')),
      () => void message.error(t('common.copyFailed')),
    );
  return (
    <Space.Compact style={{ width: '100%' }}>
      <Input readOnly value={value} style={{ fontFamily: 'monospace' }} onFocus={(e) => e.target.select()} aria-label={label} data-testid={testId} />
      <Button icon={<CopyOutlined />} onClick={() => void copy()}>
        {t('common.copy')}
      </Button>
    </Space.Compact>
  );
}
