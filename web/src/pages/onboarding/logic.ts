// The wizard's pure parts: names, the one-line install, the query finding the agent's events.

import type { AgentSpec, Platform } from './api';

export const PLATFORMS: Platform[] = ['linux', 'kubernetes', 'ansible', 'aws_ssm'];

/** A key name saying what it is for and when it was made: `fluent-bit-linux-20261207`. */
export function keyName(platform: Platform, now: Date): string {
  const d = now.toISOString().slice(0, 10).replaceAll('-', '');
  return `fluent-bit-${platform.replace('_', '-')}-${d}`;
}

/** Paths typed one per line or comma-separated, without blanks or repeats. */
export function parsePaths(text: string): string[] {
  return [...new Set(text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean))];
}

export function specOf(platform: Platform, url: string, pathsText: string, service: string, ec2Tag: string): AgentSpec {
  const spec: AgentSpec = { platform, url: url.trim().replace(/\/+$/, ''), paths: platform === 'kubernetes' ? [] : parsePaths(pathsText) };
  if (service.trim()) spec.service = service.trim();
  if (platform === 'aws_ssm' && ec2Tag.trim()) spec.ec2_tag = ec2Tag.trim();
  return spec;
}

/** `curl … | sudo NEXUSLOG_API_KEY=… bash` for one server; the key only when it is known. */
export function oneLiner(spec: AgentSpec, key: string | null): string {
  const q = new URLSearchParams({ url: spec.url });
  if (spec.paths.length) q.set('paths', spec.paths.join(','));
  if (spec.service) q.set('service', spec.service);
  return `curl -fsSL '${spec.url}/v1/agents/fluent-bit/install.sh?${q.toString()}' | sudo NEXUSLOG_API_KEY=${key ?? '<ingest key>'} bash`;
}

/** The events a key sent: the gateway stamps each with the key's name. */
export function eventsOfKey(name: string): string {
  return `ingest.api_key:"${name.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}
