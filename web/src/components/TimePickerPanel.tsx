import { useEffect, useState } from 'react';
import { Button, DatePicker, Divider, Input, Space, Typography } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useTranslation } from 'react-i18next';
import { checkRange, matchQuick, parseTime, QUICK_RANGES, quickRange, type TimeRange } from '../time/range';

/** The picker's panel: loaded when it first opens (the date picker is a large part of antd). */
export default function TimePickerPanel({ value, onApply }: { value: TimeRange; onApply: (r: TimeRange) => void }) {
  const { t } = useTranslation();
  const [from, setFrom] = useState(value.from);
  const [to, setTo] = useState(value.to || 'now');
  const [abs, setAbs] = useState<[Dayjs, Dayjs] | null>(null);

  useEffect(() => {
    setFrom(value.from);
    setTo(value.to || 'now');
    const f = parseTime(value.from);
    const e = parseTime(value.to || 'now');
    setAbs(f && e ? [dayjs(f), dayjs(e)] : null);
  }, [value]);

  const problem = checkRange({ from, to });
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    if (!problem) onApply({ from: from.trim(), to: to.trim() || 'now' });
  };

  return (
    <div className="nl-timepicker" data-testid="time-picker">
      <Typography.Text strong>{t('time.relative')}</Typography.Text>
      <div className="nl-timepicker-quick">
        {QUICK_RANGES.map((span) => (
          <Button key={span} size="small" type={matchQuick(value) === span ? 'primary' : 'default'} onClick={() => onApply(quickRange(span))}>
            {t(`time.quick.${span}`)}
          </Button>
        ))}
      </div>
      <Divider style={{ margin: '12px 0' }} />
      <Typography.Text strong>{t('time.absolute')}</Typography.Text>
      <div style={{ marginTop: 8 }}>
        <DatePicker.RangePicker
          showTime={{ format: 'HH:mm:ss' }}
          format="YYYY-MM-DD HH:mm:ss"
          value={abs}
          onChange={(v) => setAbs(v && v[0] && v[1] ? [v[0], v[1]] : null)}
          getPopupContainer={(node) => node.parentElement ?? document.body}
          aria-label={t('time.absolute')}
        />
        <Button
          style={{ marginLeft: 8 }}
          disabled={!abs || !abs[0].isBefore(abs[1])}
          onClick={() => abs && onApply({ from: abs[0].toDate().toISOString(), to: abs[1].toDate().toISOString() })}
        >
          {t('common.apply')}
        </Button>
      </div>
      <Divider style={{ margin: '12px 0' }} />
      <Typography.Text strong>{t('time.expressions')}</Typography.Text>
      <form onSubmit={submit} style={{ marginTop: 8 }}>
        <Space align="start" wrap>
          <label className="nl-field">
            <span>{t('time.from')}</span>
            <Input value={from} onChange={(e) => setFrom(e.target.value)} placeholder="now-2h" style={{ width: 200 }} status={problem === 'bad_from' ? 'error' : undefined} />
            {problem === 'bad_from' && <span className="nl-field-error">{t('time.invalid')}</span>}
          </label>
          <label className="nl-field">
            <span>{t('time.to')}</span>
            <Input value={to} onChange={(e) => setTo(e.target.value)} placeholder="now" style={{ width: 200 }} status={problem === 'bad_to' || problem === 'empty' ? 'error' : undefined} />
            {(problem === 'bad_to' || problem === 'empty') && <span className="nl-field-error">{t(problem === 'empty' ? 'time.empty' : 'time.invalid')}</span>}
          </label>
        </Space>
        <Typography.Paragraph type="secondary" style={{ margin: '8px 0', fontSize: 12 }}>
          {t('time.hint')}
        </Typography.Paragraph>
        <Button htmlType="submit" type="primary" disabled={problem !== null}>
          {t('common.apply')}
        </Button>
      </form>
    </div>
  );
}
