import { describe, expect, it } from 'vitest';
import { RateMeter } from './rate';

describe('RateMeter', () => {
  it('averages arrivals over its window and forgets older ones', () => {
    const m = new RateMeter(5000);
    m.add(10, 1000);
    m.add(15, 3000);
    expect(m.rate(5000)).toBe(5);
    expect(m.rate(6500)).toBe(3); // the first sample left the window
    expect(m.rate(9000)).toBe(0);
  });
});
