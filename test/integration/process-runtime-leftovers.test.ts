import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProcessRuntime } from '../../shared/agent/runtime/process-runtime.js';
import { processAlive, until } from '../support/wait.js';

/**
 * An agent killed outright (SIGKILL) cannot stop its process-runtime containers; the next agent on the
 * same data directory ends them (issue 16: they kept running with nothing to stop them).
 */
const alive = processAlive;

describe('process runtime after its agent was killed', () => {
  it('the next agent ends the process groups the killed one left, grandchildren included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumo-leftovers-'));
    const script = join(dir, 'agent.mts');
    const runtimeModule = new URL('../../shared/agent/runtime/process-runtime.ts', import.meta.url).pathname;
    // Two containers; one is a shell whose background child is a grandchild of the agent.
    writeFileSync(
      script,
      `import { ProcessRuntime } from ${JSON.stringify(runtimeModule)};
const rt = new ProcessRuntime(${JSON.stringify(join(dir, 'containers'))}, process.env.PATH);
const sink = { write: (t) => process.stdout.write(t) };
const sandbox = await rt.runSandbox({ name: 'pod', labels: {}, hostAliases: [], memoryVolumes: [] });
await rt.run({ name: 'a', command: ['sleep', '600'], env: {}, labels: {}, ports: [], sandbox }, sink);
await rt.run({ name: 'b', command: ['sh', '-c', 'sleep 600 & echo grandchild=$!; wait'], env: {}, labels: {}, ports: [], sandbox }, sink);
setInterval(() => {}, 1000);
`,
    );
    const agent = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    agent.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await until(async () => /grandchild=\d+/.test(out), 20_000);
    const grandchild = Number(/grandchild=(\d+)/.exec(out)?.[1]);
    const pgids = (await import('node:fs')).readdirSync(join(dir, 'containers', '.groups')).map(Number);
    expect(pgids).toHaveLength(2);
    agent.kill('SIGKILL');
    await new Promise((r) => agent.once('exit', r));
    // Killed outright: its containers are still running.
    for (const pid of [...pgids, grandchild]) expect(alive(pid)).toBe(true);

    const next = new ProcessRuntime(join(dir, 'containers'), process.env.PATH ?? '');
    expect(await next.reapLeftovers()).toBe(2);
    await until(async () => ![...pgids, grandchild].some(alive), 5_000);
    // Nothing left to reap the second time, and a stale record (a pid now someone else's) is not signalled.
    writeFileSync(join(dir, 'containers', '.groups', String(process.pid)), '1');
    expect(await next.reapLeftovers()).toBe(0);
    expect(alive(process.pid)).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});
