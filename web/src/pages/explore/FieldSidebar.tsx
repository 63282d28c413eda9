import { useMemo, useState } from 'react';
import { Button, Empty, Input, Skeleton, Tag, Tooltip, Typography } from 'antd';
import { DownOutlined, MinusCircleOutlined, PlusCircleOutlined, RightOutlined, WarningOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import type { TopValue } from '../../api';
import { useFormat } from '../../i18n/format';

export interface SidebarField {
  name: string;
  types?: string[];
  conflict?: boolean;
  standard?: boolean;
  top?: TopValue[];
  other?: number;
}

interface Props {
  fields: SidebarField[];
  loading: boolean;
  truncated?: boolean;
  onFilter: (field: string, value: unknown, exclude: boolean) => void;
}

const OPEN_BY_DEFAULT = new Set(['level', 'service']);

export function FieldSidebar({ fields, loading, truncated, onFilter }: Props) {
  const { t } = useTranslation();
  const fmt = useFormat();
  const [filter, setFilter] = useState('');
  const [open, setOpen] = useState<Set<string>>(() => new Set(OPEN_BY_DEFAULT));
  const shown = useMemo(() => fields.filter((f) => f.name.toLowerCase().includes(filter.trim().toLowerCase())), [fields, filter]);

  const toggle = (name: string) =>
    setOpen((prev) => {
      const next = new Set(prev);
      if (next.has(name)) next.delete(name);
      else next.add(name);
      return next;
    });

  return (
    <aside className="nl-sidebar" aria-label={t('explore.fields')}>
      <div className="nl-sidebar-head">
        <Typography.Text strong>{t('explore.fields')}</Typography.Text>
        <Input size="small" allowClear placeholder={t('explore.findField')} value={filter} onChange={(e) => setFilter(e.target.value)} aria-label={t('explore.findField')} />
      </div>
      <div className="nl-sidebar-body">
        {loading && fields.length === 0 ? (
          <Skeleton active paragraph={{ rows: 6 }} title={false} />
        ) : shown.length === 0 ? (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('explore.noFields')} />
        ) : (
          shown.map((f) => {
            const total = (f.top ?? []).reduce((n, v) => n + v.count, 0) + (f.other ?? 0);
            const isOpen = open.has(f.name);
            return (
              <div key={f.name} className="nl-sfield" data-testid={`field-${f.name}`}>
                <button type="button" className="nl-sfield-name" onClick={() => toggle(f.name)} aria-expanded={isOpen}>
                  {isOpen ? <DownOutlined /> : <RightOutlined />}
                  <span className="nl-sfield-label">{f.name}</span>
                  {f.types?.map((ty) => (
                    <Tag key={ty} className="nl-type">
                      {ty}
                    </Tag>
                  ))}
                  {f.conflict && (
                    <Tooltip title={t('explore.conflict')}>
                      <WarningOutlined style={{ color: '#fa8c16' }} />
                    </Tooltip>
                  )}
                </button>
                {isOpen && (
                  <div className="nl-sfield-values">
                    {!f.top ? (
                      <Typography.Text type="secondary" className="nl-small">
                        {t('explore.noTopValues')}
                      </Typography.Text>
                    ) : f.top.length === 0 ? (
                      <Typography.Text type="secondary" className="nl-small">
                        {t('explore.noValues')}
                      </Typography.Text>
                    ) : (
                      f.top.map((v) => {
                        const pct = total > 0 ? (v.count / total) * 100 : 0;
                        return (
                          <div key={String(v.key)} className="nl-tv">
                            <div className="nl-tv-text">
                              <span className="nl-tv-key" title={String(v.key)}>
                                {String(v.key)}
                              </span>
                              <span className="nl-tv-count">{fmt.number(v.count)}</span>
                              <span className="nl-tv-actions">
                                <Tooltip title={t('explore.filterFor')}>
                                  <Button type="text" size="small" aria-label={`${t('explore.filterFor')} ${f.name}:${String(v.key)}`} icon={<PlusCircleOutlined />} onClick={() => onFilter(f.name, v.key, false)} />
                                </Tooltip>
                                <Tooltip title={t('explore.filterOut')}>
                                  <Button type="text" size="small" aria-label={`${t('explore.filterOut')} ${f.name}:${String(v.key)}`} icon={<MinusCircleOutlined />} onClick={() => onFilter(f.name, v.key, true)} />
                                </Tooltip>
                              </span>
                            </div>
                            <div className="nl-tv-bar">
                              <div style={{ width: `${pct}%` }} />
                            </div>
                          </div>
                        );
                      })
                    )}
                    {(f.other ?? 0) > 0 && (
                      <Typography.Text type="secondary" className="nl-small">
                        {t('explore.otherValues', { count: f.other, formatted: fmt.number(f.other ?? 0) })}
                      </Typography.Text>
                    )}
                  </div>
                )}
              </div>
            );
          })
        )}
        {truncated && (
          <Typography.Paragraph type="secondary" className="nl-small" style={{ padding: 8 }}>
            {t('explore.fieldsTruncated')}
          </Typography.Paragraph>
        )}
      </div>
    </aside>
  );
}
