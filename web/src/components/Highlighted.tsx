import { memo } from 'react';
import { charToOffset } from '../query/diagnostics';

/** UTF-16 ranges of `text` for the server's character spans, sorted and clipped. */
export function highlightRanges(text: string, spans: [number, number][] | undefined): [number, number][] {
  if (!spans?.length) return [];
  const astral = /[\uD800-\uDBFF]/.test(text);
  const out: [number, number][] = [];
  for (const [s, e] of [...spans].sort((a, b) => a[0] - b[0])) {
    const from = astral ? charToOffset(text, s) : Math.min(s, text.length);
    const to = astral ? charToOffset(text, e) : Math.min(e, text.length);
    if (to <= from) continue;
    const last = out[out.length - 1];
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  }
  return out;
}

export const Highlighted = memo(function Highlighted({ text, spans }: { text: string; spans?: [number, number][] }) {
  const ranges = highlightRanges(text, spans);
  if (!ranges.length) return <>{text}</>;
  const parts: React.ReactNode[] = [];
  let at = 0;
  ranges.forEach(([from, to], i) => {
    if (from > at) parts.push(text.slice(at, from));
    parts.push(
      <mark key={i} className="nl-mark">
        {text.slice(from, to)}
      </mark>,
    );
    at = to;
  });
  if (at < text.length) parts.push(text.slice(at));
  return <>{parts}</>;
});
