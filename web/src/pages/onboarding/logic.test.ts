import { describe, expect, it } from 'vitest';
import en from '../../i18n/locales/en/onboarding.json';
import zh from '../../i18n/locales/zh-CN/onboarding.json';
import { eventsOfKey, keyName, oneLiner, parsePaths, PLATFORMS, specOf } from './logic';

describe('onboarding', () => {
  it('names keys by platform and day', () => {
    expect(keyName('aws_ssm', new Date('2026-12-07T10:00:00Z'))).toBe('fluent-bit-aws-ssm-20261207');
  });

  it('reads paths one per line or comma-separated', () => {
    expect(parsePaths(' /var/log/a.log\n/var/log/b/*.log, /var/log/a.log,\n\n')).toEqual(['/var/log/a.log', '/var/log/b/*.log']);
  });

  it('builds the spec per platform', () => {
    expect(specOf('kubernetes', 'https://logs.example.com/', '/var/log/x.log', '', 'team=a')).toEqual({ platform: 'kubernetes', url: 'https://logs.example.com', paths: [] });
    expect(specOf('aws_ssm', 'https://l', '/x', ' shop ', 'team=a')).toEqual({ platform: 'aws_ssm', url: 'https://l', paths: ['/x'], service: 'shop', ec2_tag: 'team=a' });
  });

  it('puts the key in the one-liner only when known', () => {
    const spec = specOf('linux', 'https://logs.example.com', '/var/log/nginx/*.log', 'shop', '');
    expect(oneLiner(spec, null)).toBe(
      "curl -fsSL 'https://logs.example.com/v1/agents/fluent-bit/install.sh?url=https%3A%2F%2Flogs.example.com&paths=%2Fvar%2Flog%2Fnginx%2F*.log&service=shop' | sudo NEXUSLOG_API_KEY=<ingest key> bash",
    );
    expect(oneLiner(spec, 'nxl_abc')).toContain('NEXUSLOG_API_KEY=nxl_abc bash');
  });

  it('finds the events of a key by its name', () => {
    expect(eventsOfKey('fluent-bit-linux-20261207')).toBe('ingest.api_key:"fluent-bit-linux-20261207"');
    expect(eventsOfKey('a"b')).toBe('ingest.api_key:"a\\"b"');
  });

  it('has every text in both languages, a title and a hint per platform', () => {
    const keys = (o: object, p = ''): string[] => Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v, `${p}${k}.`) : [`${p}${k}`]));
    expect(keys(zh).sort()).toEqual(keys(en).sort());
    for (const p of PLATFORMS) {
      expect(keys(en)).toContain(`platform.${p}.title`);
      expect(keys(en)).toContain(`install.how.${p}`);
    }
  });
});
