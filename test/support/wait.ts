import { typeByKindName, type ResourceType } from '../../shared/model/kinds.js';

/** Polls `check` until it holds; fails the test after `timeoutMs`. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The registered type of a kind, for calls into the object service. */
export const T = (kind: string) => typeByKindName(kind) as ResourceType;

/** Whether a process exists (signal 0 tests without signalling). */
export const processAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
