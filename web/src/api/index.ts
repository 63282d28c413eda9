import { ApiClient, localTokenStore } from './client';
import type {
  AggregateAnswer,
  FieldsAnswer,
  HistogramResult,
  LoginAnswer,
  Me,
  Project,
  RolesAnswer,
  SearchAnswer,
  TermsResult,
} from './types';

export * from './client';
export type * from './types';

/** The console's client: same origin (the binary serves the console and the API). */
export const api = new ApiClient({ store: localTokenStore() });

const p = (project: string) => `/v1/projects/${encodeURIComponent(project)}`;

export async function login(email: string, password: string): Promise<LoginAnswer> {
  const answer = await api.request<LoginAnswer>('POST', '/v1/auth/login', { body: { email, password }, anonymous: true });
  api.setTokens(answer);
  return answer;
}

export async function logout(): Promise<void> {
  try {
    await api.post('/v1/auth/logout');
  } finally {
    api.clearTokens();
  }
}

export const getMe = (signal?: AbortSignal) => api.get<Me>('/v1/auth/me', undefined, signal);
export const getProjects = (signal?: AbortSignal) => api.get<{ projects: Project[] }>('/v1/projects', undefined, signal);
export const getRoles = (signal?: AbortSignal) => api.get<RolesAnswer>('/v1/roles', undefined, signal);

export interface SearchParams {
  q: string;
  from: string;
  to: string;
  limit: number;
  cursor?: string;
  sort?: 'asc' | 'desc';
}

export const search = (project: string, params: SearchParams, signal?: AbortSignal) =>
  api.get<SearchAnswer>(`${p(project)}/search`, { ...params, highlight: true }, signal);

export const getFields = (project: string, params: { q: string; from: string; to: string } | null, signal?: AbortSignal) =>
  api.get<FieldsAnswer>(`${p(project)}/fields`, params ?? undefined, signal);

export type ExploreAggs = {
  timeline: HistogramResult;
  level: TermsResult;
  service: TermsResult;
  host: TermsResult;
  source: TermsResult;
};

/** The histogram by level, and the standard fields' top values (the fields API has only extracted ones). */
export const exploreAggregate = (project: string, params: { q: string; from: string; to: string }, signal?: AbortSignal) =>
  api.post<AggregateAnswer<ExploreAggs>>(
    `${p(project)}/aggregate`,
    {
      ...params,
      aggs: {
        timeline: { date_histogram: { interval: 'auto', split_by: 'level', size: 6 } },
        level: { terms: { field: 'level', size: 6 } },
        service: { terms: { field: 'service', size: 5 } },
        host: { terms: { field: 'host', size: 5 } },
        source: { terms: { field: 'source', size: 5 } },
      },
    },
    { signal },
  );

/** The live tail's response (an event stream), after authentication. */
export const openTail = (project: string, q: string, signal: AbortSignal) =>
  api.raw('GET', `${p(project)}/tail`, { query: { q }, signal, headers: { Accept: 'text/event-stream' } });
