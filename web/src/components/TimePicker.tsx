import { lazy, Suspense, useState } from 'react';
import { Button, Popover, Spin } from 'antd';
import { ClockCircleOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useFormat } from '../i18n/format';
import { isRelative, matchQuick, parseTime, QUICK_RANGES, type TimeRange } from '../time/range';

const loadPanel = () => import('./TimePickerPanel');
const TimePickerPanel = lazy(loadPanel);

interface Props {
  value: TimeRange;
  onChange: (r: TimeRange) => void;
}

/** How a range reads in the picker's button. */
export function useRangeLabel(range: TimeRange): string {
  const { t } = useTranslation();
  const fmt = useFormat();
  const quick = matchQuick(range);
  if (quick && (QUICK_RANGES as readonly string[]).includes(quick)) return t(`time.quick.${quick as (typeof QUICK_RANGES)[number]}`);
  if (quick) return t('time.lastSpan', { span: quick });
  const show = (expr: string) => {
    if (isRelative(expr)) return expr;
    const d = parseTime(expr);
    return d ? fmt.dateTime(d, 'short') : expr;
  };
  return `${show(range.from)} → ${show(range.to || 'now')}`;
}

export function TimePicker({ value, onChange }: Props) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const label = useRangeLabel(value);
  const content = (
    <Suspense
      fallback={
        <div className="nl-timepicker nl-center">
          <Spin />
        </div>
      }
    >
      <TimePickerPanel
        value={value}
        onApply={(r) => {
          onChange(r);
          setOpen(false);
        }}
      />
    </Suspense>
  );
  return (
    <Popover content={content} trigger="click" open={open} onOpenChange={setOpen} placement="bottomRight" destroyOnHidden>
      <Button icon={<ClockCircleOutlined />} aria-label={t('time.pick')} data-testid="time-picker-button" onMouseEnter={() => void loadPanel()} onFocus={() => void loadPanel()}>
        {label}
      </Button>
    </Popover>
  );
}
