import { describe, expect, it } from 'vitest';
import { absoluteRange, checkRange, matchQuick, parseTime, quickRange, resolveRange, shiftRange } from './range';

const now = new Date('2026-12-05T10:37:12.345Z'); // a Saturday

describe('parseTime', () => {
  it('reads date math as the server does (UTC rounding)', () => {
    expect(parseTime('now', now)?.toISOString()).toBe('2026-12-05T10:37:12.345Z');
    expect(parseTime('now-15m', now)?.toISOString()).toBe('2026-12-05T10:22:12.345Z');
    expect(parseTime('now+5m', now)?.toISOString()).toBe('2026-12-05T10:42:12.345Z');
    expect(parseTime('now-1d/d', now)?.toISOString()).toBe('2026-12-04T00:00:00.000Z');
    expect(parseTime('now/w', now)?.toISOString()).toBe('2026-11-30T00:00:00.000Z');
    expect(parseTime('now/M', now)?.toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(parseTime('now-1y/y', now)?.toISOString()).toBe('2025-01-01T00:00:00.000Z');
    expect(parseTime('now-1M', now)?.toISOString()).toBe('2026-11-05T10:37:12.345Z');
    expect(parseTime('now/d+1h', now)?.toISOString()).toBe('2026-12-05T01:00:00.000Z');
    expect(parseTime('now-1h-30m', now)?.toISOString()).toBe('2026-12-05T09:07:12.345Z');
  });

  it('reads RFC 3339 and epoch milliseconds, refuses the rest', () => {
    expect(parseTime('2024-05-01T12:00:00Z', now)?.toISOString()).toBe('2024-05-01T12:00:00.000Z');
    expect(parseTime('2024-05-01T14:00:00+02:00', now)?.toISOString()).toBe('2024-05-01T12:00:00.000Z');
    expect(parseTime('1714564800000', now)?.toISOString()).toBe('2024-05-01T12:00:00.000Z');
    for (const bad of ['', 'yesterday', 'now-15', 'now-15x', 'now*2', '2024-05-01']) expect(parseTime(bad, now)).toBeNull();
  });
});

describe('ranges', () => {
  it('quick ranges end now and are recognised', () => {
    expect(quickRange('4h')).toEqual({ from: 'now-4h', to: 'now' });
    expect(matchQuick({ from: 'now-7d', to: 'now' })).toBe('7d');
    expect(matchQuick({ from: 'now-7d', to: '' })).toBe('7d');
    expect(matchQuick({ from: 'now-7d', to: 'now-1d' })).toBeUndefined();
    expect(matchQuick({ from: '2024-05-01T12:00:00Z', to: 'now' })).toBeUndefined();
  });

  it('resolves both ends and checks order', () => {
    const r = resolveRange({ from: 'now-1h', to: 'now' }, now)!;
    expect(r.to.getTime() - r.from.getTime()).toBe(3_600_000);
    expect(checkRange({ from: 'now-1h', to: 'now' }, now)).toBeNull();
    expect(checkRange({ from: 'now', to: 'now-1h' }, now)).toBe('empty');
    expect(checkRange({ from: 'soon', to: 'now' }, now)).toBe('bad_from');
    expect(checkRange({ from: 'now-1h', to: 'later' }, now)).toBe('bad_to');
  });

  it('makes absolute ranges from a drag, in either direction, never empty', () => {
    const a = Date.parse('2026-12-05T10:00:00Z');
    const b = Date.parse('2026-12-05T10:05:00Z');
    expect(absoluteRange(a, b)).toEqual({ from: '2026-12-05T10:00:00.000Z', to: '2026-12-05T10:05:00.000Z' });
    expect(absoluteRange(b, a)).toEqual(absoluteRange(a, b));
    expect(absoluteRange(a, a)).toEqual({ from: '2026-12-05T10:00:00.000Z', to: '2026-12-05T10:00:01.000Z' });
  });

  it('shifts a range by its length', () => {
    expect(shiftRange({ from: 'now-1h', to: 'now' }, -1, now)).toEqual({ from: '2026-12-05T08:37:12.345Z', to: '2026-12-05T09:37:12.345Z' });
  });
});
