import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { kubeconfig } from '../../local/kubeconfig.js';

const run = promisify(execFile);

/** The real kubectl on PATH (1.32 on these machines), or '' when there is none. */
export const kubectlPath = await run('sh', ['-c', 'command -v kubectl']).then(
  (r) => r.stdout.trim(),
  () => '',
);

export interface Kubectl {
  /** Runs kubectl against the server; never throws (the exit code is in the result). */
  run(...args: string[]): Promise<{ out: string; err: string; code: number }>;
  /** Runs kubectl and expects exit code 0; returns stdout. */
  ok(...args: string[]): Promise<string>;
  /** A scratch folder of this kubectl's own (its kubeconfig and cache live there). */
  dir: string;
}

/** A kubectl with a kubeconfig of its own pointing at `server`. */
export function kubectlFor(server: string): Kubectl {
  const dir = mkdtempSync(join(tmpdir(), 'kumo-kubectl-'));
  writeFileSync(join(dir, 'kubeconfig'), kubeconfig({ server }));
  const kubectl: Kubectl['run'] = async (...args) => {
    try {
      // Global flags first: anything after `--` belongs to the command kubectl runs (exec).
      const r = await run(
        kubectlPath,
        ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), ...args],
        { timeout: 60_000 },
      );
      return { out: r.stdout, err: r.stderr, code: 0 };
    } catch (e) {
      const x = e as { stdout?: string; stderr?: string; code?: number };
      return { out: x.stdout ?? '', err: x.stderr ?? '', code: typeof x.code === 'number' ? x.code : 1 };
    }
  };
  return {
    run: kubectl,
    dir,
    async ok(...args) {
      const r = await kubectl(...args);
      expect(r.code, `kubectl ${args.join(' ')}\n${r.err}`).toBe(0);
      return r.out;
    },
  };
}
