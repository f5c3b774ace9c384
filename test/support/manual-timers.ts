import type { Timers } from '../../shared/util/timers.js';

/** Lets every promise chain that is ready run to its next wait (several rounds of the event loop). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

/**
 * A clock that moves only when told: `advance` fires the timers that fall due, in order, letting the
 * code they wake run before the next one. For driving timed loops (the agent's) without waiting.
 */
export class ManualTimers implements Timers {
  private t: number;
  private seq = 0;
  private pending: { at: number; seq: number; f: () => void }[] = [];

  constructor(readonly start = Date.parse('2026-01-01T00:00:00Z')) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  /** Milliseconds since the clock started. */
  get elapsed(): number {
    return this.t - this.start;
  }

  after(ms: number, f: () => void): () => void {
    const entry = { at: this.t + Math.max(0, ms), seq: this.seq++, f };
    this.pending.push(entry);
    return () => {
      this.pending = this.pending.filter((e) => e !== entry);
    };
  }

  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      const next = this.pending.filter((e) => e.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.pending = this.pending.filter((e) => e !== next);
      this.t = next.at;
      next.f();
      await settle();
    }
    this.t = end;
    await settle();
  }
}
