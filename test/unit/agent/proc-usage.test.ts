import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  nodeUsage,
  parseCpuBusyNs,
  parseMemoryInUse,
  parseProcessStat,
  parseResidentBytes,
  processGroupUsage,
} from '../../../shared/agent/metrics/proc-usage.js';
import { UsageMeter } from '../../../shared/agent/metrics/usage-meter.js';

describe('usage from /proc', () => {
  it('reads the machine: busy CPU time (not idle or iowait) and MemTotal − MemAvailable', () => {
    expect(parseCpuBusyNs('cpu  100 5 50 9000 40 2 3 1 0 0\ncpu0 1 2 3 4\n')).toBe((100 + 5 + 50 + 2 + 3 + 1) * 1e7);
    expect(parseMemoryInUse('MemTotal:       16000 kB\nMemFree:  1 kB\nMemAvailable:   12000 kB\n')).toBe(4000 * 1024);
    expect(parseMemoryInUse('MemTotal: 1 kB\n')).toBeUndefined();
  });

  it("reads a process's group and CPU ticks after its name, however odd the name", () => {
    const stat = '4242 (a) b (c) S 1 4240 4240 0 -1 4194304 1 0 0 0 7 3 2 1 20 0 1 0 100 0 0';
    expect(parseProcessStat(stat)).toEqual({ pgrp: 4240, ticks: 7 + 3 + 2 + 1 });
    expect(parseResidentBytes('Name:\tsh\nVmRSS:\t    1500 kB\n')).toBe(1500 * 1024);
    expect(parseResidentBytes('Name:\tkthreadd\n')).toBe(0);
  });

  it('measures a real busy process group and this machine', async () => {
    const child = spawn('sh', ['-c', 'i=0; while [ $i -lt 3000000 ]; do i=$((i+1)); done; sleep 5'], {
      detached: true,
      stdio: 'ignore',
    });
    try {
      await new Promise((r) => setTimeout(r, 700));
      const u = processGroupUsage([child.pid ?? -1]).get(child.pid ?? -1);
      expect(u?.cpuNanoSeconds).toBeGreaterThan(0);
      expect(u?.memoryBytes).toBeGreaterThan(0);
      expect(nodeUsage()?.memoryBytes).toBeGreaterThan(0);
    } finally {
      process.kill(-(child.pid ?? 0), 'SIGKILL');
    }
  });

  it('turns two cumulative samples into a rate, treating a counter that went down as no use', () => {
    const meter = new UsageMeter();
    expect(meter.round(new Map([['a', { cpuNanoSeconds: 1e9, memoryBytes: 10 }]]), 0).size).toBe(0);
    const rates = meter.round(
      new Map([
        ['a', { cpuNanoSeconds: 4e9, memoryBytes: 20 }],
        ['b', { cpuNanoSeconds: 1, memoryBytes: 1 }],
      ]),
      15_000,
    );
    expect(rates).toEqual(new Map([['a', { cpuNanoCores: 2e8, memoryBytes: 20 }]]));
    expect(meter.round(new Map([['a', { cpuNanoSeconds: 1e9, memoryBytes: 5 }]]), 30_000).get('a')).toEqual({
      cpuNanoCores: 0,
      memoryBytes: 5,
    });
  });
});
