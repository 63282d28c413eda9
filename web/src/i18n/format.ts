// Dates and numbers through Intl, per the UI language (cached formatters: the results table
// formats thousands of times while scrolling).

import { useTranslation } from 'react-i18next';

const cache = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>();

function dateFormat(locale: string, kind: 'full' | 'short' | 'date' | 'time'): Intl.DateTimeFormat {
  const key = `d:${locale}:${kind}`;
  let f = cache.get(key) as Intl.DateTimeFormat | undefined;
  if (!f) {
    const options: Intl.DateTimeFormatOptions =
      kind === 'full'
        ? { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3, hourCycle: 'h23' }
        : kind === 'short'
          ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
          : kind === 'date'
            ? { year: 'numeric', month: 'long', day: 'numeric' }
            : { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' };
    f = new Intl.DateTimeFormat(locale, options);
    cache.set(key, f);
  }
  return f;
}

function numberFormat(locale: string, compact = false): Intl.NumberFormat {
  const key = `n:${locale}:${compact}`;
  let f = cache.get(key) as Intl.NumberFormat | undefined;
  if (!f) {
    f = new Intl.NumberFormat(locale, compact ? { notation: 'compact', maximumFractionDigits: 1 } : { maximumFractionDigits: 2 });
    cache.set(key, f);
  }
  return f;
}

function toDate(v: Date | string | number): Date {
  return v instanceof Date ? v : new Date(v);
}

export function formatDateTime(v: Date | string | number, locale: string, kind: 'full' | 'short' | 'date' | 'time' = 'full'): string {
  const d = toDate(v);
  return Number.isNaN(d.getTime()) ? String(v) : dateFormat(locale, kind).format(d);
}

export function formatNumber(n: number, locale: string, compact = false): string {
  return numberFormat(locale, compact).format(n);
}

/** Formatters bound to the current UI language. */
export function useFormat() {
  const { i18n } = useTranslation();
  const locale = i18n.language;
  return {
    locale,
    dateTime: (v: Date | string | number, kind?: 'full' | 'short' | 'date' | 'time') => formatDateTime(v, locale, kind),
    number: (n: number, compact = false) => formatNumber(n, locale, compact),
  };
}
