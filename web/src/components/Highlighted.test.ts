import { describe, expect, it } from 'vitest';
import { highlightRanges } from './Highlighted';

describe('highlightRanges', () => {
  it('maps character spans to string ranges, merged and clipped', () => {
    expect(highlightRanges('payment failed for order 5606', [[0, 7], [8, 14]])).toEqual([[0, 7], [8, 14]]);
    expect(highlightRanges('abc', [[1, 2], [0, 2], [2, 10]])).toEqual([[0, 3]]);
    expect(highlightRanges('abc', undefined)).toEqual([]);
  });
  it('counts astral characters as one, as the server does', () => {
    // "😀 timeout": the server says [2, 9]; in UTF-16 that is [3, 10].
    expect(highlightRanges('😀 timeout', [[2, 9]])).toEqual([[3, 10]]);
    expect(highlightRanges('用户登录失败', [[2, 4]])).toEqual([[2, 4]]);
  });
});
