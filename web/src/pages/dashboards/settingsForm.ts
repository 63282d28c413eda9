// The dashboard settings form (name, description, sharing, default range and refresh,
// variables) <-> the dashboard document.

import type { TimeRange } from '../../time/range';
import type { Dashboard } from './api';

export interface SettingsForm {
  name: string;
  description: string;
  shared: boolean;
  refresh: string;
  useRange: boolean;
  variables: { name: string; field: string; size: number | null; default: string }[];
}

/** The settings form → the dashboard to save. */
export function applySettings(d: Dashboard, v: SettingsForm, range: TimeRange): Dashboard {
  const next: Dashboard = { ...d, name: v.name.trim(), shared: v.shared };
  const description = v.description.trim();
  if (description) next.description = description;
  else delete next.description;
  if (v.refresh) next.refresh = v.refresh;
  else delete next.refresh;
  if (v.useRange) next.time_range = { from: range.from, to: range.to || 'now' };
  next.variables = v.variables
    .filter((x) => x.name.trim() && x.field.trim())
    .map((x) => ({
      name: x.name.trim(),
      field: x.field.trim(),
      ...(typeof x.size === 'number' ? { size: x.size } : {}),
      ...(x.default.trim() ? { default: x.default.trim() } : {}),
    }));
  return next;
}

export function settingsForm(d: Dashboard): SettingsForm {
  return {
    name: d.name,
    description: d.description ?? '',
    shared: d.shared ?? true,
    refresh: d.refresh ?? '',
    useRange: false,
    variables: (d.variables ?? []).map((v) => ({ name: v.name, field: v.field, size: v.size ?? null, default: v.default ?? '' })),
  };
}
