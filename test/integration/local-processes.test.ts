import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { processAlive, until } from '../support/wait.js';

const alive = processAlive;

describe('local processes', () => {
  it('DynamoDB Local does not outlive a process that started it and was killed (SIGKILL runs no exit handler)', async () => {
    const parent = spawn(process.execPath, ['--import', 'tsx', 'test/support/dynamodb-local-child.ts'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    parent.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => /jvm \d+/.test(out), 60_000);
    const jvm = Number(/jvm (\d+)/.exec(out)?.[1]);
    try {
      expect(alive(jvm)).toBe(true);
      parent.kill('SIGKILL');
      await once(parent, 'exit');
      await until(() => !alive(jvm), 10_000);
    } finally {
      if (alive(jvm)) process.kill(jvm, 'SIGKILL');
    }
  }, 90_000);
});
