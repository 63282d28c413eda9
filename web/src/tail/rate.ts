/** Events per second over a sliding window, from arrival counts per tick. */
export class RateMeter {
  private samples: { at: number; n: number }[] = [];
  constructor(private readonly windowMs = 5000) {}

  add(n: number, at: number): void {
    if (n > 0) this.samples.push({ at, n });
  }

  rate(now: number): number {
    const since = now - this.windowMs;
    while (this.samples.length && this.samples[0].at <= since) this.samples.shift();
    const total = this.samples.reduce((s, x) => s + x.n, 0);
    return total / (this.windowMs / 1000);
  }

  reset(): void {
    this.samples = [];
  }
}
