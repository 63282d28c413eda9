// Dashboards: the list (/dashboards), and one dashboard's grid of widgets (/dashboards/:id).

import { lazy, Suspense } from 'react';
import { Spin } from 'antd';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { Notice } from '../../components/Notice';
import { useSession } from '../../session';
import './i18n';
import './dashboards.css';
import { DashboardList } from './DashboardList';

// The grid, its charts and editors load when a dashboard is opened: the list needs none of them.
const DashboardView = lazy(() => import('./DashboardView'));

export default function DashboardsPage() {
  const { t } = useTranslation('dashboards');
  const session = useSession();
  const { id } = useParams();
  const project = session.project;
  if (!project) return <Notice kind="info" title={t('title')}>{t('noProject')}</Notice>;
  if (id) {
    return (
      <Suspense
        fallback={
          <div className="nl-center">
            <Spin />
          </div>
        }
      >
        <DashboardView key={`${project}/${id}`} project={project} id={id} />
      </Suspense>
    );
  }
  return <DashboardList key={project} project={project} />;
}
