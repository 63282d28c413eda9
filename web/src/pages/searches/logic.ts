// Saved searches ↔ Explore's URL, and the bodies the API takes back.

import type { TimeRange } from '../../time/range';
import type { SavedSearch, SavedSearchBody } from './api';

/** Explore's default range when a search saved none. */
const DEFAULT_FROM = 'now-15m';

/** Explore's URL for a saved search: its query and range, in its project. */
export function exploreUrl(s: Pick<SavedSearchBody, 'query' | 'time_range'>, project: string): string {
  const params = new URLSearchParams();
  if (s.query.trim()) params.set('q', s.query.trim());
  params.set('from', s.time_range?.from || DEFAULT_FROM);
  params.set('to', s.time_range?.to || 'now');
  params.set('project', project);
  return `/explore?${params.toString()}`;
}

/** The range a saved search opens with. */
export function rangeOf(s: Pick<SavedSearchBody, 'time_range'>): TimeRange {
  return { from: s.time_range?.from || DEFAULT_FROM, to: s.time_range?.to || 'now' };
}

/** What PUT takes back: without id, owner and times, with the changes. */
export function searchBody(s: SavedSearch | SavedSearchBody, change: Partial<SavedSearchBody> = {}): SavedSearchBody {
  const { id: _id, owner: _owner, created_at: _c, updated_at: _u, ...body } = s as SavedSearch;
  return { ...body, ...change };
}

/** A new saved search from Explore's query and range. */
export function newSearch(name: string, query: string, range: TimeRange | null, shared: boolean): SavedSearchBody {
  const body: SavedSearchBody = { name: name.trim(), query: query.trim(), shared };
  if (range) body.time_range = { from: range.from, to: range.to || 'now' };
  return body;
}

/** A name to start from: the query, shortened. */
export function suggestName(query: string): string {
  const q = query.trim().replace(/\s+/g, ' ');
  return q.length > 60 ? `${q.slice(0, 59)}…` : q;
}
