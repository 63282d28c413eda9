// The endpoints of the onboarding wizard: the generated agent setup, an ingest key, the first events.

import { api } from '../../api';

const p = (project: string) => `/v1/projects/${encodeURIComponent(project)}`;

export type Platform = 'linux' | 'kubernetes' | 'ansible' | 'aws_ssm';

export interface AgentSpec {
  platform: Platform;
  url: string;
  paths: string[];
  service?: string;
  ec2_tag?: string;
}

export interface AgentFile {
  name: string;
  language: 'ini' | 'bash' | 'yaml' | 'json';
  content: string;
}

export const generateAgent = (project: string, spec: AgentSpec, signal?: AbortSignal) =>
  api.post<{ platform: Platform; files: AgentFile[] }>(`${p(project)}/agents/fluent-bit`, spec, { signal });

export const createIngestKey = (project: string, name: string) =>
  api.post<{ id: string; name: string; key: string }>(`${p(project)}/api-keys`, { name, scopes: ['ingest'], source: 'fluent-bit' });
