// The server's query errors point at a character (a Unicode scalar value, 0-based); the editor
// counts UTF-16 code units. This maps a position to the editor range to underline: the token
// that starts or contains it, or a point at the end when the query stopped too early.

import { tokenize } from './tokenizer';

/** The UTF-16 offset of the `charPos`-th code point of `text` (clamped to its length). */
export function charToOffset(text: string, charPos: number): number {
  if (charPos <= 0) return 0;
  let chars = 0;
  let i = 0;
  while (i < text.length && chars < charPos) {
    const code = text.charCodeAt(i);
    i += code >= 0xd800 && code <= 0xdbff && i + 1 < text.length ? 2 : 1;
    chars++;
  }
  return i;
}

/** The code-point count of `text` before the UTF-16 offset `offset`. */
export function offsetToChar(text: string, offset: number): number {
  return Array.from(text.slice(0, offset)).length;
}

export interface ErrorRange {
  from: number;
  to: number;
}

/** The range of `query` to mark for a server error at character `position`. */
export function errorRange(query: string, position: number): ErrorRange {
  const at = charToOffset(query, position);
  const tokens = tokenize(query);
  if (at >= query.length) {
    // The query ended too early: the last token is what is missing its continuation
    // (`a OR`, `level:`, `(a`); an empty query gets a point.
    const last = tokens[tokens.length - 1];
    return last ? { from: last.from, to: query.length } : { from: query.length, to: query.length };
  }
  for (const t of tokens) {
    if (t.from <= at && at < t.to) return { from: at === t.from ? t.from : at, to: t.to };
  }
  // Whitespace or a character no token holds: the rest of that bare run, at least one.
  let to = at + 1;
  while (to < query.length && !/\s/u.test(query[to])) to++;
  return { from: at, to };
}
