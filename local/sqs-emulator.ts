import { startFauxqs } from 'fauxqs';

export interface SqsEmulator {
  endpoint: string;
  stop(): Promise<void>;
}

/** fauxqs, started in-process and bound to loopback only (its CLI would listen on 0.0.0.0). */
export async function startSqsEmulator(opts: { port: number }): Promise<SqsEmulator> {
  const server = await startFauxqs({ port: opts.port, host: '127.0.0.1', logger: false });
  return { endpoint: `http://127.0.0.1:${opts.port}`, stop: () => server.stop() };
}
