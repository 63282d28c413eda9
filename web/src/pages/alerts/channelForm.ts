// A channel's form values and its `config` per type, both ways.

import type { Channel, ChannelBody, ChannelType } from './api';
import type { LabelPair } from './ruleForm';

export interface ChannelFormValues {
  name: string;
  type: ChannelType;
  url: string;
  /** `********` (as the server shows a stored one) keeps the stored secret. */
  secret: string;
  headers: LabelPair[];
  to: string[];
}

/** Which config fields a type has. */
export function channelFields(type: ChannelType): { url: boolean; secret: boolean; headers: boolean; to: boolean } {
  return {
    url: type !== 'email',
    secret: type === 'webhook' || type === 'dingtalk' || type === 'feishu',
    headers: type === 'webhook',
    to: type === 'email',
  };
}

export function channelToForm(c?: Channel): ChannelFormValues {
  const cfg = (c?.config ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    name: c?.name ?? '',
    type: c?.type ?? 'webhook',
    url: str(cfg.url),
    secret: str(cfg.secret),
    headers: Object.entries((cfg.headers as Record<string, string> | undefined) ?? {}).map(([key, value]) => ({ key, value: String(value) })),
    to: Array.isArray(cfg.to) ? cfg.to.map(String) : [],
  };
}

export function formToChannel(v: ChannelFormValues): ChannelBody {
  const f = channelFields(v.type);
  const config: Record<string, unknown> = {};
  if (f.url) config.url = (v.url ?? '').trim();
  if (f.secret && (v.secret ?? '') !== '') config.secret = v.secret;
  if (f.headers) {
    const headers: Record<string, string> = {};
    for (const h of v.headers ?? []) {
      const k = (h?.key ?? '').trim();
      if (k) headers[k] = h.value ?? '';
    }
    if (Object.keys(headers).length) config.headers = headers;
  }
  if (f.to) config.to = (v.to ?? []).map((a) => a.trim()).filter(Boolean);
  return { name: v.name.trim(), type: v.type, config };
}

/** The form field a server error names: `config.url` → `url`, `config.to[1]` → `to`. */
export function channelFieldOf(field: string | undefined): keyof ChannelFormValues | null {
  if (!field) return null;
  if (field === 'name' || field === 'type') return field;
  const m = /^config\.(\w+)/.exec(field);
  if (m && ['url', 'secret', 'headers', 'to'].includes(m[1])) return m[1] as keyof ChannelFormValues;
  return field === 'config' ? 'url' : null;
}

/** Where a channel sends, for the list. */
export function channelTarget(c: Pick<Channel, 'type' | 'config'>): string {
  const cfg = c.config as Record<string, unknown>;
  if (c.type === 'email') return Array.isArray(cfg.to) ? cfg.to.join(', ') : '';
  return typeof cfg.url === 'string' ? cfg.url : '';
}
