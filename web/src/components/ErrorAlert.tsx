import { Alert, Button } from 'antd';
import { useTranslation } from 'react-i18next';
import { describeError } from './errors';

export function ErrorAlert({ error, onRetry, style }: { error: unknown; onRetry?: () => void; style?: React.CSSProperties }) {
  const { t } = useTranslation();
  const { title, detail } = describeError(error, t);
  return (
    <Alert
      type="error"
      showIcon
      role="alert"
      title={title}
      description={detail}
      style={style}
      action={
        onRetry ? (
          <Button size="small" onClick={onRetry}>
            {t('common.retry')}
          </Button>
        ) : undefined
      }
    />
  );
}
