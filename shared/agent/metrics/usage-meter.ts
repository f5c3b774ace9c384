import type { ContainerUsage } from '../runtime/runtime.js';

/** A rate over the last window: CPU in nanocores (1e9 is one core busy), memory as last read. */
export interface UsageRate {
  cpuNanoCores: number;
  memoryBytes: number;
}

/**
 * Turns cumulative counters into rates, as metrics-server does with kubelet's: the CPU used between
 * two samples over the time between them. A key seen for the first time has no rate yet (a container
 * that just started is reported from its second sample); keys not sampled again are forgotten.
 */
export class UsageMeter {
  private last = new Map<string, { usage: ContainerUsage; atMs: number }>();

  /** Records this round's samples and returns the rates of the keys that had one before. */
  round(samples: Map<string, ContainerUsage>, atMs: number): Map<string, UsageRate> {
    const rates = new Map<string, UsageRate>();
    for (const [key, usage] of samples) {
      const before = this.last.get(key);
      const seconds = before ? (atMs - before.atMs) / 1000 : 0;
      if (before && seconds > 0) {
        // A counter that went down (a process group member left without being reaped) is no use, not negative use.
        const cpu = Math.max(0, usage.cpuNanoSeconds - before.usage.cpuNanoSeconds);
        rates.set(key, { cpuNanoCores: Math.round(cpu / seconds), memoryBytes: usage.memoryBytes });
      }
    }
    this.last = new Map([...samples].map(([key, usage]) => [key, { usage, atMs }]));
    return rates;
  }
}
