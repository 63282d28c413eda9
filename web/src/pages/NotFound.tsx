import { Button } from 'antd';
import { Notice } from '../components/Notice';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';

export default function NotFound() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  return (
    <Notice
      kind="missing"
      title={t('notFound.title')}
      extra={
        <Button type="primary" onClick={() => navigate('/explore')}>
          {t('notFound.back')}
        </Button>
      }
    >
      {t('notFound.body')}
    </Notice>
  );
}
