import { memo } from 'react';
import { App, Button, Segmented, Tooltip } from 'antd';
import { CopyOutlined, MinusCircleOutlined, PlusCircleOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { LogRecord } from '../../api';
import { copyText } from '../../components/copy';
import { display, filterable, recordFields, recordJson } from './record';

interface Props {
  record: LogRecord;
  onFilter: (field: string, value: unknown, exclude: boolean) => void;
}

export const RecordDetail = memo(function RecordDetail({ record, onFilter }: Props) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [view, setView] = useState<'fields' | 'json'>('fields');
  const copy = (text: string) =>
    copyText(text).then(
      () => message.success(t('common.copied')),
      () => message.error(t('common.copyFailed')),
    );
  return (
    <div className="nl-detail" onClick={(e) => e.stopPropagation()} data-testid="record-detail">
      <div className="nl-detail-bar">
        <Segmented<'fields' | 'json'>
          size="small"
          value={view}
          onChange={setView}
          options={[
            { value: 'fields', label: t('explore.detailFields') },
            { value: 'json', label: 'JSON' },
          ]}
        />
        <Button size="small" icon={<CopyOutlined />} onClick={() => void copy(recordJson(record))}>
          {t('explore.copyJson')}
        </Button>
        <Button size="small" icon={<CopyOutlined />} onClick={() => void copy(record.message)}>
          {t('explore.copyMessage')}
        </Button>
      </div>
      {view === 'json' ? (
        <pre className="nl-json">{recordJson(record)}</pre>
      ) : (
        <table className="nl-fields-table">
          <tbody>
            {recordFields(record).map(([name, value]) => (
              <tr key={name}>
                <td className="nl-field-actions">
                  {filterable(name, value) && (
                    <>
                      <Tooltip title={t('explore.filterFor')}>
                        <Button type="text" size="small" aria-label={`${t('explore.filterFor')} ${name}`} icon={<PlusCircleOutlined />} onClick={() => onFilter(name, value, false)} />
                      </Tooltip>
                      <Tooltip title={t('explore.filterOut')}>
                        <Button type="text" size="small" aria-label={`${t('explore.filterOut')} ${name}`} icon={<MinusCircleOutlined />} onClick={() => onFilter(name, value, true)} />
                      </Tooltip>
                    </>
                  )}
                  <Tooltip title={t('common.copy')}>
                    <Button type="text" size="small" aria-label={`${t('common.copy')} ${name}`} icon={<CopyOutlined />} onClick={() => void copy(display(value))} />
                  </Tooltip>
                </td>
                <td className="nl-field-name">{name}</td>
                <td className="nl-field-value">{display(value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
});
