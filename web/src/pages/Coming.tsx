import { Notice } from '../components/Notice';
import { useTranslation } from 'react-i18next';

export default function Coming({ page }: { page: 'dashboards' | 'alerts' | 'pipelines' | 'settings' }) {
  const { t } = useTranslation();
  return (
    <Notice kind="info" title={t(`nav.${page}`)}>
      {t('coming.body', { page: t(`nav.${page}`) })}
    </Notice>
  );
}
