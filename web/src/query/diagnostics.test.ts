import { describe, expect, it } from 'vitest';
import { charToOffset, errorRange, offsetToChar } from './diagnostics';

describe('charToOffset', () => {
  it('counts code points, not UTF-16 units', () => {
    expect(charToOffset('abc', 2)).toBe(2);
    expect(charToOffset('😀x', 1)).toBe(2);
    expect(charToOffset('登录 x', 3)).toBe(3);
    expect(charToOffset('ab', 10)).toBe(2);
    expect(offsetToChar('😀x', 2)).toBe(1);
  });
});

describe('errorRange', () => {
  it('points at the end when the query stops too early', () => {
    // The server: "level:error OR" → "expected a term, found the end of the query", position 14.
    // The dangling token is underlined.
    expect(errorRange('level:error OR', 14)).toEqual({ from: 12, to: 14 });
    expect(errorRange('level:', 6)).toEqual({ from: 0, to: 6 });
    expect(errorRange('a OR ', 5)).toEqual({ from: 2, to: 5 });
    expect(errorRange('', 0)).toEqual({ from: 0, to: 0 });
  });

  it('underlines the token at the position', () => {
    expect(errorRange('a ) b', 2)).toEqual({ from: 2, to: 3 });
    expect(errorRange('(a OR b', 0)).toEqual({ from: 0, to: 1 });
    expect(errorRange('x "unclosed phrase', 2)).toEqual({ from: 2, to: 18 });
    expect(errorRange('timestamp:yesterday', 10)).toEqual({ from: 10, to: 19 });
  });

  it('maps positions after astral characters', () => {
    // 😀 is one character for the server and two code units for the editor.
    expect(errorRange('😀 a )', 4)).toEqual({ from: 5, to: 6 });
  });
});
