import { useEffect, useRef, useState } from 'react';
import { Button, Card, Input, Descriptions, Empty, List, Select, Space, Tag, Typography, message } from 'antd';
import { CheckCircleFilled, CloseCircleFilled, PlayCircleOutlined, SearchOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { ErrorAlert } from '../../components/ErrorAlert';
import { createRule, detect, dryRun, type Detection, type RuleSpec } from './api';
import { sampleLines, shapeResults, type ShapedResult, type Verdict } from './pipeline';

const VERDICT_COLOR: Record<Verdict, string> = { ok: 'success', partial: 'warning', dropped: 'default', dead_letter: 'error', joined: 'processing' };

export const SAMPLE = [
  '{"service":"api","message":"lvl=warn user=bob took=12"}',
  '127.0.0.1 - - [10/Oct/2024:13:55:36 +0000] "GET /index.html HTTP/1.1" 200 2326 "-" "curl/8.0"',
].join('\n');

/** Sample lines through `rules` (unsaved), or the saved pipeline when `rules` is undefined. */
export function DryRunPanel({
  project,
  rules,
  draftError,
  version,
  onRuleAdded,
}: {
  project: string;
  rules: RuleSpec[] | undefined;
  draftError?: string | null;
  /** Changes when the saved pipeline does (a run then follows it). */
  version?: string;
  /** Given to callers who may change the pipeline: a detected preset can become a rule. */
  onRuleAdded?: () => void;
}) {
  const { t } = useTranslation('pipelines');
  const [text, setText] = useState(SAMPLE);
  const [source, setSource] = useState<'http' | 'syslog'>('http');
  const [results, setResults] = useState<ShapedResult[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [running, setRunning] = useState(false);

  const [detected, setDetected] = useState<Detection[] | null>(null);
  const [detecting, setDetecting] = useState(false);
  const detectFormat = async () => {
    setDetecting(true);
    setError(null);
    try {
      setDetected((await detect(project, sampleLines(text))).presets);
    } catch (e) {
      setError(e);
      setDetected(null);
    } finally {
      setDetecting(false);
    }
  };
  const addPresetRule = async (d: Detection) => {
    try {
      await createRule(project, { name: d.title, steps: [{ preset: d.preset }] });
      message.success(t('detect.added', { name: d.title }));
      onRuleAdded?.();
    } catch (e) {
      setError(e);
    }
  };

  const ran = useRef(false);
  const rulesKey = JSON.stringify(rules ?? null);
  const run = async () => {
    ran.current = true;
    const lines = sampleLines(text);
    setRunning(true);
    setError(null);
    try {
      const answer = await dryRun(project, { lines, source, rules });
      setResults(shapeResults(lines, answer.results));
    } catch (e) {
      setError(e);
      setResults(null);
    } finally {
      setRunning(false);
    }
  };

  // Once run, the preview follows the edits.
  useEffect(() => {
    if (!ran.current || draftError) return;
    const id = setTimeout(() => void run(), 600);
    return () => clearTimeout(id);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rulesKey, source, version]);

  return (
    <Card size="small" title={t('dry.title')} extra={<Typography.Text type="secondary">{rules ? t('dry.unsaved') : t('dry.saved')}</Typography.Text>}>
      <Space orientation="vertical" style={{ width: '100%' }}>
        <Input.TextArea
          aria-label={t('dry.lines')}
          data-testid="dry-run-lines"
          value={text}
          onChange={(e) => setText(e.target.value)}
          autoSize={{ minRows: 4, maxRows: 12 }}
          spellCheck={false}
          style={{ fontFamily: 'monospace', fontSize: 12 }}
          placeholder={t('dry.placeholder')}
        />
        <Space>
          <Select value={source} onChange={setSource} options={[{ value: 'http', label: 'http' }, { value: 'syslog', label: 'syslog' }]} aria-label={t('dry.source')} />
          <Button type="primary" icon={<PlayCircleOutlined />} loading={running} disabled={!!draftError || sampleLines(text).length === 0} onClick={() => void run()} data-testid="dry-run">
            {t('dry.run')}
          </Button>
          <Button icon={<SearchOutlined />} loading={detecting} disabled={sampleLines(text).length === 0} onClick={() => void detectFormat()} data-testid="detect-format">
            {t('detect.run')}
          </Button>
          {draftError && <Typography.Text type="danger">{draftError}</Typography.Text>}
        </Space>
        {detected && (
          <List
            size="small"
            bordered
            data-testid="detected-presets"
            header={<Typography.Text strong>{t('detect.title')}</Typography.Text>}
            locale={{ emptyText: t('detect.none') }}
            dataSource={detected}
            renderItem={(d) => (
              <List.Item
                data-testid="detected-preset"
                actions={onRuleAdded ? [<Button key="use" size="small" onClick={() => void addPresetRule(d)} data-testid="use-preset">{t('detect.use')}</Button>] : []}
              >
                <Space>
                  <Tag color={d.share === 1 ? 'success' : 'warning'}>{t('detect.share', { parsed: d.parsed, lines: d.lines })}</Tag>
                  <Typography.Text code>{d.preset}</Typography.Text>
                  <Typography.Text type="secondary">{d.title}</Typography.Text>
                </Space>
              </List.Item>
            )}
          />
        )}
        {error !== null && <ErrorAlert error={error} />}
        {results && results.length === 0 && <Empty description={t('dry.noResults')} />}
        {results?.map((r, i) => (
          <Card key={i} size="small" type="inner" data-testid="dry-run-result" title={<Typography.Text code ellipsis style={{ maxWidth: '100%' }}>{r.line}</Typography.Text>}
            extra={<Tag color={VERDICT_COLOR[r.verdict]}>{t(`verdict.${r.verdict}`, { n: r.into })}</Tag>}>
            {r.rule && <div><Typography.Text type="secondary">{t('dry.byRule', { rule: r.rule })}</Typography.Text>{r.reason && `: ${r.reason}`}</div>}
            {r.summary.length > 0 && (
              <Descriptions size="small" column={1} bordered items={[
                ...r.summary.map(([k, v]) => ({ key: k, label: k, children: <Typography.Text style={{ fontSize: 12, whiteSpace: 'pre-wrap' }}>{String(v)}</Typography.Text> })),
                ...Object.entries(r.fields).map(([k, v]) => ({ key: `f.${k}`, label: <Typography.Text strong>{k}</Typography.Text>, children: <Typography.Text code>{JSON.stringify(v)}</Typography.Text> })),
              ]} />
            )}
            {r.errors.map((e) => <Typography.Paragraph key={e} type="warning" style={{ margin: '6px 0 0' }}>{e}</Typography.Paragraph>)}
            <div style={{ marginTop: 8 }}>
              <Typography.Text type="secondary">{t('dry.trace')}</Typography.Text>
              {r.trace.length === 0 && <div><Typography.Text type="secondary">{t('dry.noRules')}</Typography.Text></div>}
              {r.trace.map((rt, j) => (
                <div key={j} style={{ marginTop: 4 }}>
                  <Space size={4}>
                    <Typography.Text strong>{rt.rule}</Typography.Text>
                    <Tag color={!rt.matched ? 'default' : rt.failed ? 'warning' : 'success'}>{!rt.matched ? t('dry.notMatched') : rt.failed ? t('dry.failedStep') : t('dry.applied')}</Tag>
                  </Space>
                  {rt.steps.map((st, k) => (
                    <div key={k} style={{ marginLeft: 16, fontSize: 12 }} data-testid="dry-run-step">
                      {st.ok ? <CheckCircleFilled style={{ color: '#52c41a' }} /> : <CloseCircleFilled style={{ color: '#ff4d4f' }} />}{' '}
                      <Typography.Text code>{st.step}</Typography.Text>
                      {st.error && <Typography.Text type="danger">{` ${st.error}`}</Typography.Text>}
                    </div>
                  ))}
                </div>
              ))}
            </div>
          </Card>
        ))}
      </Space>
    </Card>
  );
}
