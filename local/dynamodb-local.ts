import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { waitForPort } from './ports.js';
import { endWithThisProcess, stopChild } from './processes.js';

export interface DynamoDbLocal {
  endpoint: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** The real DynamoDB Local jar, shipped inside the amplify-dynamodb-simulator npm package (no download at run time). */
export function dynamoDbLocalDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
}

export async function startDynamoDbLocal(opts: { port: number; dataDir?: string }): Promise<DynamoDbLocal> {
  const dir = dynamoDbLocalDir();
  const storage = opts.dataDir
    ? (mkdirSync(opts.dataDir, { recursive: true }), ['-dbPath', opts.dataDir])
    : ['-inMemory'];
  const child = spawn(
    'java',
    [
      '-Xms64m',
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      '-disableTelemetry',
      ...storage,
      '-sharedDb',
      '-port',
      String(opts.port),
    ],
    // Its own process group, so Ctrl-C in the terminal reaches only the orchestrator, which stops it in order.
    // DynamoDB Local sends usage telemetry to AWS (Cognito, then Pinpoint) unless told not to; with the
    // flag alone it still looked up cognito-identity.us-east-1.amazonaws.com, with the variable it sends
    // nothing (seen with strace, and by the offline-stack test's packet counter).
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' } },
  );
  // If this process ends without stopping it (a signal, a crash, process.exit), the JVM must not outlive it.
  const dismissWatchdog = endWithThisProcess(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()).slice(-4000));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`DynamoDB Local exited (${code}) before listening: ${stderr}`))),
  );
  try {
    await Promise.race([waitForPort(opts.port, 30_000), exited]);
  } catch (e) {
    await stopChild(child);
    dismissWatchdog();
    throw e;
  }
  exited.catch(() => undefined);
  return {
    endpoint: `http://127.0.0.1:${opts.port}`,
    process: child,
    stop: async () => {
      await stopChild(child);
      dismissWatchdog();
    },
  };
}
