import { describe, expect, it } from 'vitest';
import { addFilter, clause, formatValue } from './filters';

describe('formatValue', () => {
  it('leaves plain values bare and quotes the rest', () => {
    expect(formatValue('web-1')).toBe('web-1');
    expect(formatValue(503)).toBe('503');
    expect(formatValue('John Smith')).toBe('"John Smith"');
    expect(formatValue('a:b*')).toBe('"a:b*"');
    expect(formatValue('say "hi"')).toBe('"say \\"hi\\""');
    expect(formatValue('OR')).toBe('"OR"');
    expect(formatValue('')).toBe('""');
  });
});

describe('addFilter', () => {
  it('appends, negates, and replaces the opposite clause', () => {
    expect(addFilter('', 'host', 'web-1')).toBe('host:web-1');
    expect(addFilter('timeout', 'host', 'web-1')).toBe('timeout host:web-1');
    expect(addFilter('timeout', 'host', 'web-1', true)).toBe('timeout -host:web-1');
    expect(addFilter('timeout host:web-1', 'host', 'web-1', true)).toBe('timeout -host:web-1');
    expect(addFilter('timeout host:web-1', 'host', 'web-1')).toBe('timeout host:web-1');
  });
  it('groups a query with a top-level OR', () => {
    expect(addFilter('a OR b', 'level', 'error')).toBe('(a OR b) level:error');
    expect(addFilter('(a OR b) c', 'level', 'error')).toBe('(a OR b) c level:error');
    expect(addFilter('"x OR y"', 'level', 'error')).toBe('"x OR y" level:error');
  });
  it('filters the message by phrase', () => {
    expect(clause('message', 'disk full')).toBe('"disk full"');
    expect(clause('message', 'boom', true)).toBe('-"boom"');
  });
});
