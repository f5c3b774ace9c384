import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

/**
 * Stops a child started with `detached: true` (its own process group): SIGTERM to the whole group,
 * SIGKILL after `graceMs`. Resolves when it has exited, so its ports are free afterwards.
 */
export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  const pid = child.pid;
  return new Promise((resolve) => {
    const kill = (signal: NodeJS.Signals) => {
      try {
        process.kill(-pid, signal);
      } catch {
        try {
          child.kill(signal);
        } catch {
          // already gone
        }
      }
    };
    const timer = setTimeout(() => kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    kill('SIGTERM');
  });
}

/**
 * Ends a detached child's process group when this process ends, however it ends (a signal, SIGKILL,
 * a crash): a watchdog shell reads a pipe from this process and kills the group at end of file,
 * which the kernel delivers when the last holder of the pipe's write end is gone. A JVM left behind
 * by an interrupted test run or benchmark would otherwise keep its memory and port. Returns a
 * function that dismisses the watchdog (after a normal stop).
 */
export function endWithThisProcess(child: ChildProcess): () => void {
  if (child.pid === undefined) return () => {};
  // (dash's kill takes a negative pid for a group, but no `--`.)
  // In a process group of its own: a signal to this process's group (Ctrl-C in a terminal, `timeout`)
  // must not take the watchdog down with this process before it has done its one job.
  const dog = spawn('/bin/sh', ['-c', `read _ ; kill -9 -${child.pid} 2>/dev/null`], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  // Neither the watchdog nor its pipe keeps this process alive.
  dog.unref();
  (dog.stdin as Socket | null)?.unref();
  dog.on('error', () => undefined);
  return () => {
    dog.kill('SIGKILL');
    dog.stdin?.destroy();
  };
}
