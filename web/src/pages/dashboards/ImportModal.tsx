// Import a dashboard from an exported JSON file or pasted text.

import { useState } from 'react';
import { Alert, Button, Input, Modal, Space, Typography, Upload } from 'antd';
import { UploadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { ErrorAlert } from '../../components/ErrorAlert';
import { importDashboard, type Dashboard } from './api';
import { ImportError, parseImport } from './model';

export function ImportModal({ project, open, onClose, onImported }: { project: string; open: boolean; onClose: () => void; onImported: (d: Dashboard) => void }) {
  const { t } = useTranslation('dashboards');
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setProblem(null);
    setError(null);
    let doc;
    try {
      doc = parseImport(text);
    } catch (e) {
      setProblem(t(e instanceof ImportError ? `import.${e.problem}` : 'import.not_dashboard'));
      return;
    }
    setBusy(true);
    try {
      onImported(await importDashboard(project, doc));
      setText('');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={open}
      title={t('import.title')}
      onCancel={onClose}
      destroyOnHidden
      width={640}
      footer={
        <Space>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="primary" loading={busy} disabled={!text.trim()} onClick={() => void submit()} data-testid="import-submit">
            {t('import.submit')}
          </Button>
        </Space>
      }
    >
      <Typography.Paragraph type="secondary">{t('import.hint')}</Typography.Paragraph>
      <Upload
        accept="application/json,.json"
        maxCount={1}
        showUploadList={false}
        beforeUpload={(file) => {
          void file.text().then((s) => setText(s));
          return false;
        }}
      >
        <Button icon={<UploadOutlined />}>{t('import.file')}</Button>
      </Upload>
      <Input.TextArea
        value={text}
        onChange={(e) => setText(e.target.value)}
        rows={12}
        placeholder={t('import.placeholder')}
        aria-label={t('import.paste')}
        style={{ marginTop: 12, fontFamily: 'monospace', fontSize: 12 }}
        data-testid="import-text"
      />
      {problem && <Alert type="error" showIcon title={problem} style={{ marginTop: 12 }} />}
      {error !== null && <ErrorAlert error={error} style={{ marginTop: 12 }} />}
    </Modal>
  );
}
