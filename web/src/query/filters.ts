// Writing values into queries: quoting, and the "filter for / filter out" clauses.

/** Characters that end or change a bare value in the search language. */
const SPECIAL = /[\s():"\\*[\]{}<>]/u;

/** A value as the search language reads it back exactly: bare when it can be, quoted otherwise. */
export function formatValue(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  const bare =
    text.length > 0 &&
    !SPECIAL.test(text) &&
    text !== 'AND' &&
    text !== 'OR' &&
    text !== 'NOT' &&
    text !== 'TO';
  if (bare) return text;
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A field name as written in a query: names with odd characters get their `:` escaped away. */
export function formatField(name: string): string {
  return /^[A-Za-z_@][A-Za-z0-9_.@-]*$/.test(name) ? name : name.replace(/([\s():"\\*])/g, '\\$1');
}

export function clause(field: string, value: unknown, exclude = false): string {
  if (field === 'message') {
    const phrase = formatValue(String(value ?? ''));
    const quoted = phrase.startsWith('"') ? phrase : `"${phrase}"`;
    return `${exclude ? '-' : ''}${quoted}`;
  }
  return `${exclude ? '-' : ''}${formatField(field)}:${formatValue(value)}`;
}

/**
 * The query narrowed by one more condition. A query with a top-level `OR` is put in
 * parentheses first, so the new condition applies to all of it.
 */
export function addFilter(query: string, field: string, value: unknown, exclude = false): string {
  const c = clause(field, value, exclude);
  const q = query.trim();
  if (q === '' || q === '*') return c;
  // Already there: nothing to add; the opposite one is replaced.
  const opposite = clause(field, value, !exclude);
  const parts = q.split(/\s+/);
  if (parts.includes(c)) return q;
  if (parts.includes(opposite)) return parts.map((p) => (p === opposite ? c : p)).join(' ');
  const hasTopLevelOr = /(^|\s)OR(\s|$)/.test(stripGroups(q));
  return hasTopLevelOr ? `(${q}) ${c}` : `${q} ${c}`;
}

/** The query with parenthesised groups and quoted strings blanked out. */
function stripGroups(q: string): string {
  let depth = 0;
  let inQuote = false;
  let out = '';
  for (let i = 0; i < q.length; i++) {
    const c = q[i];
    if (inQuote) {
      if (c === '\\') i++;
      else if (c === '"') inQuote = false;
      out += ' ';
      continue;
    }
    if (c === '"') {
      inQuote = true;
      out += ' ';
    } else if (c === '(') {
      depth++;
      out += ' ';
    } else if (c === ')') {
      depth = Math.max(0, depth - 1);
      out += ' ';
    } else out += depth > 0 ? ' ' : c;
  }
  return out;
}
