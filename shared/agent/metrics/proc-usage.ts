import { readdirSync, readFileSync } from 'node:fs';
import type { ContainerUsage } from '../runtime/runtime.js';

/**
 * CPU and memory as Linux's /proc counts them, for what has no cgroup of its own to read: the node as
 * a whole, and the process runtime's containers (a process group each). Kernel clock ticks are
 * USER_HZ, 100 on every architecture Linux exposes to user space, so a tick is 10 ms.
 */
const NS_PER_TICK = 10_000_000;

/** /proc/stat's first line: CPU time spent on anything but idling and waiting for I/O (ns since boot). */
export function parseCpuBusyNs(procStat: string): number | undefined {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) * NS_PER_TICK;
}

/** /proc/meminfo: memory in use that the kernel could not hand out at once (MemTotal − MemAvailable), in bytes. */
export function parseMemoryInUse(meminfo: string): number | undefined {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(meminfo);
    return m ? Number(m[1]) : undefined;
  };
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  return total === undefined || available === undefined ? undefined : (total - available) * 1024;
}

/** The fields of /proc/<pid>/stat a usage needs: the process group, and CPU ticks of it and its reaped children. */
export function parseProcessStat(stat: string): { pgrp: number; ticks: number } | undefined {
  // The command name (field 2) may hold spaces and parentheses: the fields that follow start after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): field n is rest[n - 3].
  const pgrp = Number(rest[2]);
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(rest[i] ?? NaN), 0);
  return Number.isFinite(pgrp) && Number.isFinite(ticks) ? { pgrp, ticks } : undefined;
}

/** VmRSS from /proc/<pid>/status, in bytes (0 for kernel threads and zombies, which have none). */
export function parseResidentBytes(status: string): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

const readOrUndefined = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** The whole machine's use: what `kubectl top nodes` shows (kubelet reads the root cgroup; a host agent reads /proc). */
export function nodeUsage(procDir = '/proc'): ContainerUsage | undefined {
  const cpu = parseCpuBusyNs(readOrUndefined(`${procDir}/stat`) ?? '');
  const memory = parseMemoryInUse(readOrUndefined(`${procDir}/meminfo`) ?? '');
  return cpu === undefined || memory === undefined ? undefined : { cpuNanoSeconds: cpu, memoryBytes: memory };
}

/**
 * The use of each process group named (by its leader's pid): the CPU of its members and of the
 * children they reaped, and their resident memory. One pass over /proc for all groups. A member that
 * left the group's count when it exited (reparented rather than reaped) makes the total go down: the
 * rate computed from two samples treats a decrease as no use.
 */
export function processGroupUsage(pgids: number[], procDir = '/proc'): Map<number, ContainerUsage> {
  const wanted = new Set(pgids);
  const out = new Map<number, ContainerUsage>();
  if (!wanted.size) return out;
  let entries: string[];
  try {
    entries = readdirSync(procDir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const stat = parseProcessStat(readOrUndefined(`${procDir}/${name}/stat`) ?? '');
    if (!stat || !wanted.has(stat.pgrp)) continue;
    const memory = parseResidentBytes(readOrUndefined(`${procDir}/${name}/status`) ?? '');
    const sum = out.get(stat.pgrp) ?? { cpuNanoSeconds: 0, memoryBytes: 0 };
    out.set(stat.pgrp, {
      cpuNanoSeconds: sum.cpuNanoSeconds + stat.ticks * NS_PER_TICK,
      memoryBytes: sum.memoryBytes + memory,
    });
  }
  return out;
}
