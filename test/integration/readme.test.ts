import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { isolationUnavailable, spawnIsolated, type Isolated } from '../support/netns.js';

/**
 * Every command block of the README runs as written against a fresh `npm start` (issue 16: some did
 * not: an example crash-looped under the process runtime, a query found nothing). The stack runs in a
 * network namespace of its own, so its port 3000, the README's, is always free and nothing leaves
 * loopback; the blocks run in order in a shell inside it. Blocks marked `<!-- README test: skip (…) -->`
 * need AWS (or are the quick start's two commands themselves).
 */
const root = new URL('../../', import.meta.url).pathname;
const noIsolation = isolationUnavailable();
if (noIsolation && process.env.CI) throw new Error(`the README test cannot run: ${noIsolation}`);
if (noIsolation) console.warn(`README test skipped: ${noIsolation}`);
const hasKubectl = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v kubectl'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

interface Block {
  line: number;
  script: string;
}

/** The ```sh blocks of the README, with the line each starts on, except those marked to skip. */
export function readmeBlocks(readme: string): { run: Block[]; skipped: Block[] } {
  const lines = readme.split('\n');
  const run: Block[] = [];
  const skipped: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== '```sh') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]?.trim() !== '```') end++;
    const block = { line: start + 1, script: lines.slice(start, end).join('\n') };
    const before =
      lines
        .slice(0, i)
        .reverse()
        .find((l) => l.trim() !== '') ?? '';
    (/^<!-- README test: skip/.test(before.trim()) ? skipped : run).push(block);
    i = end;
  }
  return { run, skipped };
}

let child: ChildProcess | undefined;
let isolated: Isolated | undefined;
afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  await isolated?.close();
});

describe.skipIf(!!noIsolation)('the README', () => {
  it('runs every command block as written against a fresh npm start', async () => {
    const { run, skipped } = readmeBlocks(readFileSync(`${root}README.md`, 'utf8'));
    expect(run.length).toBeGreaterThanOrEqual(5);
    expect(skipped.length).toBeLessThanOrEqual(5);
    isolated = spawnIsolated(process.execPath, ['--import', 'tsx', 'local/start.ts', '--in-memory'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = isolated.child;
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await isolated.entered();
    // The demo up and running, as a person would wait for it before trying the README.
    const deadline = Date.now() + 180_000;
    while (
      !/\[kumo\] demo: deployment demo\/web (\d+)\/\1 ready, demo\/greeter (\d+)\/\2 ready, job demo\/hello Complete/.test(
        output,
      )
    ) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`npm start did not bring the demo up:\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const env = { ...process.env, KUBECONFIG: `${root}.kumo/kubeconfig` };
    const failures: string[] = [];
    for (const block of run) {
      if (/\bkubectl\b/.test(block.script) && !hasKubectl) {
        if (process.env.CI) failures.push(`README.md:${block.line}: kubectl is not installed`);
        continue;
      }
      const r = await isolated.shell(block.script, { cwd: root, env, timeoutMs: 150_000 });
      if (process.env.KUMO_README_TEST_LOG) console.log(`--- README.md:${block.line} (exit ${r.code})\n${r.output}`);
      const problems = [
        ...(r.code === 0 ? [] : [`exit code ${r.code}`]),
        ...(/Error from server|error: /.test(r.output) ? ['kubectl reported an error'] : []),
        ...(/"code":5\d\d/.test(r.output) ? ['a 5xx answer'] : []),
        // A line annotated with a 4xx status must get it.
        ...[...block.script.matchAll(/# (4\d\d)\b/g)]
          .filter((m) => !r.output.includes(`"code":${m[1]}`))
          .map((m) => `no ${m[1]} answer`),
      ];
      if (problems.length)
        failures.push(
          `README.md:${block.line}: ${problems.join(', ')}\n${block.script}\n--- output ---\n${r.output.slice(-2500)}`,
        );
    }
    expect(failures, failures.join('\n\n')).toEqual([]);
    // Nothing any block did sent a packet anywhere but loopback.
    expect(await isolated.offLoopback()).toEqual({ packets: 0, destinations: [] });
  }, 600_000);
});
