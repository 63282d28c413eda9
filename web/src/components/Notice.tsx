import type { ReactNode } from 'react';
import { CloseCircleFilled, InfoCircleFilled, StopOutlined, QuestionCircleOutlined } from '@ant-design/icons';

const ICONS = {
  info: <InfoCircleFilled style={{ color: '#1677ff' }} />,
  error: <CloseCircleFilled style={{ color: '#ff4d4f' }} />,
  forbidden: <StopOutlined style={{ color: '#fa8c16' }} />,
  missing: <QuestionCircleOutlined style={{ color: '#8c8c8c' }} />,
};

/** A page-sized message (antd's Result carries large illustrations; this stays small). */
export function Notice({ kind, title, children, extra }: { kind: keyof typeof ICONS; title: ReactNode; children?: ReactNode; extra?: ReactNode }) {
  return (
    <div className="nl-notice" role={kind === 'error' || kind === 'forbidden' ? 'alert' : 'status'}>
      <div className="nl-notice-icon">{ICONS[kind]}</div>
      <div className="nl-notice-title">{title}</div>
      {children && <div className="nl-notice-body">{children}</div>}
      {extra && <div className="nl-notice-extra">{extra}</div>}
    </div>
  );
}
