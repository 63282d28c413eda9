// Explore's "Save" button; the dialog (and the page's strings) load on the first click.

import { lazy, Suspense, useState } from 'react';
import { Button, Tooltip } from 'antd';
import { StarOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useSession } from '../../session';
import type { TimeRange } from '../../time/range';

const loadModal = () => import('./SaveSearchModal');
const SaveSearchModal = lazy(loadModal);

export function SaveSearchButton({ query, range }: { query: () => string; range: TimeRange }) {
  const { t } = useTranslation();
  const session = useSession();
  const [open, setOpen] = useState<string | null>(null);
  if (!session.project || !session.can('saved_queries_write')) return null;
  return (
    <>
      <Tooltip title={t('explore.saveHint')}>
        <Button icon={<StarOutlined />} onClick={() => setOpen(query())} onMouseEnter={() => void loadModal()} data-testid="save-search">
          {t('explore.save')}
        </Button>
      </Tooltip>
      {open !== null && (
        <Suspense fallback={null}>
          <SaveSearchModal project={session.project} query={open} range={range} onClose={() => setOpen(null)} />
        </Suspense>
      )}
    </>
  );
}
