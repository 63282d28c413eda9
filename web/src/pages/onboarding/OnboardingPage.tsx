// Adding a source: where the agent runs, an ingest key, the log format (detected from sample
// lines, a preset becoming a pipeline rule), the generated Fluent Bit setup, and the first
// events arriving.

import { useEffect, useState } from 'react';
import { Alert, App, Button, Card, Form, Input, Radio, Space, Steps, Tabs, Typography } from 'antd';
import { CheckCircleOutlined, CopyOutlined, KeyOutlined, LoadingOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { search } from '../../api';
import { copyText } from '../../components/copy';
import { ErrorAlert } from '../../components/ErrorAlert';
import { Notice } from '../../components/Notice';
import { useSession } from '../../session';
import { DryRunPanel } from '../pipelines/DryRunPanel';
import '../pipelines/i18n';
import './i18n';
import { createIngestKey, generateAgent, type AgentFile, type Platform } from './api';
import { eventsOfKey, keyName, oneLiner, PLATFORMS, specOf } from './logic';

function Copyable({ text, testId }: { text: string; testId: string }) {
  const { t } = useTranslation('onboarding');
  const { message } = App.useApp();
  const copy = () => copyText(text).then(() => void message.success(t('copied')), () => void message.error(t('copyFailed')));
  return (
    <div style={{ position: 'relative' }}>
      <Button size="small" icon={<CopyOutlined />} onClick={() => void copy()} style={{ position: 'absolute', right: 8, top: 8 }}>
        {t('copy')}
      </Button>
      <pre className="onboarding-code" data-testid={testId} style={{ maxHeight: 360, overflow: 'auto', padding: 12, paddingRight: 90, margin: 0, whiteSpace: 'pre' }}>
        {text}
      </pre>
    </div>
  );
}

/** Polls the search for the key's events until the first arrives. */
function FirstEvents({ project, name }: { project: string; name: string }) {
  const { t } = useTranslation('onboarding');
  const navigate = useNavigate();
  const [count, setCount] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    let timer: number | undefined;
    const poll = async () => {
      try {
        const a = await search(project, { q: eventsOfKey(name), from: 'now-1h', to: 'now', limit: 1 }, ctl.signal);
        setCount(a.total);
        if (a.total > 0) return;
      } catch {
        // Not fatal: the next poll tries again.
      }
      if (!ctl.signal.aborted) timer = window.setTimeout(() => void poll(), 3000);
    };
    void poll();
    return () => {
      ctl.abort();
      window.clearTimeout(timer);
    };
  }, [project, name]);
  return count > 0 ? (
    <Alert
      type="success"
      showIcon
      icon={<CheckCircleOutlined />}
      data-testid="first-events"
      title={t('verify.arrived', { count })}
      action={
        <Button type="primary" onClick={() => void navigate(`/explore?q=${encodeURIComponent(eventsOfKey(name))}`)}>
          {t('verify.explore')}
        </Button>
      }
    />
  ) : (
    <Alert type="info" showIcon icon={<LoadingOutlined />} data-testid="waiting-events" title={t('verify.waiting', { name })} />
  );
}

export default function OnboardingPage() {
  const { t } = useTranslation('onboarding');
  const session = useSession();
  const project = session.project;
  const [step, setStep] = useState(0);
  const [platform, setPlatform] = useState<Platform>('linux');
  const [url, setUrl] = useState(window.location.origin);
  const [paths, setPaths] = useState('/var/log/*.log');
  const [service, setService] = useState('');
  const [ec2Tag, setEc2Tag] = useState('nexuslog=agent');
  const [key, setKey] = useState<{ name: string; secret: string } | null>(null);
  const [files, setFiles] = useState<AgentFile[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  if (!project) return <Notice kind="info" title={t('title')}>{t('noProject')}</Notice>;
  if (!session.can('api_keys_write')) return <Notice kind="info" title={t('title')}>{t('notAllowed')}</Notice>;
  const spec = specOf(platform, url, paths, service, ec2Tag);

  const makeKey = async () => {
    setBusy(true);
    setError(null);
    try {
      const k = await createIngestKey(project, keyName(platform, new Date()));
      setKey({ name: k.name, secret: k.key });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const generate = async () => {
    setBusy(true);
    setError(null);
    try {
      setFiles((await generateAgent(project, spec)).files);
      setStep(3);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const next = (
    <Button type="primary" onClick={() => setStep(step + 1)} data-testid="onboarding-next">
      {t('next')}
    </Button>
  );

  return (
    <Space className="nl-page" orientation="vertical" size="large" style={{ width: '100%', padding: 16, boxSizing: 'border-box' }}>
      <div>
        <Typography.Title level={4} style={{ marginTop: 0, marginBottom: 4 }}>
          {t('title')}
        </Typography.Title>
        <Typography.Text type="secondary">{t('intro')}</Typography.Text>
      </div>
      <Steps size="small" current={step} onChange={(s) => s < step && setStep(s)} items={(['platform', 'key', 'format', 'install'] as const).map((s) => ({ title: t(`steps.${s}`) }))} />
      {error ? <ErrorAlert error={error} /> : null}
      {step === 0 && (
        <Card>
          <Form layout="vertical" style={{ maxWidth: 720 }}>
            <Form.Item label={t('platform.label')}>
              <Radio.Group value={platform} onChange={(e) => setPlatform(e.target.value as Platform)} data-testid="platform">
                <Space orientation="vertical">
                  {PLATFORMS.map((p) => (
                    <Radio key={p} value={p} data-testid={`platform-${p}`}>
                      <Typography.Text strong>{t(`platform.${p}.title`)}</Typography.Text> — <Typography.Text type="secondary">{t(`platform.${p}.hint`)}</Typography.Text>
                    </Radio>
                  ))}
                </Space>
              </Radio.Group>
            </Form.Item>
            <Form.Item label={t('platform.url')} extra={t('platform.urlHint')}>
              <Input value={url} onChange={(e) => setUrl(e.target.value)} data-testid="agent-url" />
            </Form.Item>
            {platform !== 'kubernetes' && (
              <Form.Item label={t('platform.paths')} extra={t('platform.pathsHint')}>
                <Input.TextArea rows={3} value={paths} onChange={(e) => setPaths(e.target.value)} data-testid="agent-paths" style={{ fontFamily: 'monospace' }} />
              </Form.Item>
            )}
            <Form.Item label={t('platform.service')} extra={t('platform.serviceHint')}>
              <Input value={service} onChange={(e) => setService(e.target.value)} data-testid="agent-service" />
            </Form.Item>
            {platform === 'aws_ssm' && (
              <Form.Item label={t('platform.ec2Tag')}>
                <Input value={ec2Tag} onChange={(e) => setEc2Tag(e.target.value)} />
              </Form.Item>
            )}
            {next}
          </Form>
        </Card>
      )}
      {step === 1 && (
        <Card>
          <Space orientation="vertical" size="middle" style={{ width: '100%', maxWidth: 720 }}>
            <Typography.Paragraph>{t('key.intro')}</Typography.Paragraph>
            {key ? (
              <>
                <Alert type="warning" showIcon title={t('key.once', { name: key.name })} />
                <Copyable text={key.secret} testId="agent-key" />
              </>
            ) : (
              <Button icon={<KeyOutlined />} loading={busy} onClick={() => void makeKey()} data-testid="create-agent-key">
                {t('key.create')}
              </Button>
            )}
            <Space>
              {next}
              {!key && <Typography.Text type="secondary">{t('key.skip')}</Typography.Text>}
            </Space>
          </Space>
        </Card>
      )}
      {step === 2 && (
        <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
          <Typography.Paragraph style={{ marginBottom: 0 }}>{t('format.intro')}</Typography.Paragraph>
          <DryRunPanel project={project} rules={undefined} onRuleAdded={() => undefined} />
          <Button type="primary" loading={busy} onClick={() => void generate()} data-testid="generate-agent">
            {t('format.generate')}
          </Button>
        </Space>
      )}
      {step === 3 && files && (
        <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
          {platform === 'linux' && (
            <Card title={t('install.oneLiner')}>
              <Copyable text={oneLiner(spec, key?.secret ?? null)} testId="agent-one-liner" />
            </Card>
          )}
          <Card title={t('install.files')}>
            <Typography.Paragraph type="secondary">{t(`install.how.${platform}`)}</Typography.Paragraph>
            <Tabs items={files.map((f) => ({ key: f.name, label: f.name, children: <Copyable text={f.content} testId={`agent-file-${f.name}`} /> }))} />
          </Card>
          <Card title={t('verify.title')}>{key ? <FirstEvents project={project} name={key.name} /> : <Typography.Text type="secondary">{t('verify.noKey')}</Typography.Text>}</Card>
        </Space>
      )}
    </Space>
  );
}
