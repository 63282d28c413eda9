// Saved searches: a name, a query and a time range, private or shared with the project.

import { api } from '../../api';

const p = (project: string) => `/v1/projects/${encodeURIComponent(project)}/saved-searches`;

export interface SavedSearchBody {
  name: string;
  query: string;
  time_range?: { from: string; to?: string };
  columns?: string[];
  shared: boolean;
}

export interface SavedSearch extends SavedSearchBody {
  id: string;
  owner: string;
  created_at: string;
  updated_at: string;
}

export const listSearches = (project: string, signal?: AbortSignal) =>
  api.get<{ items: SavedSearch[] }>(p(project), undefined, signal).then((a) => a.items ?? []);
export const createSearch = (project: string, body: SavedSearchBody) => api.post<SavedSearch>(p(project), body);
export const updateSearch = (project: string, id: string, body: SavedSearchBody) => api.put<SavedSearch>(`${p(project)}/${encodeURIComponent(id)}`, body);
export const deleteSearch = (project: string, id: string) => api.delete<unknown>(`${p(project)}/${encodeURIComponent(id)}`);
