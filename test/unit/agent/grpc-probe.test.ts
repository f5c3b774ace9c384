import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeHealthCheckResponse, encodeHealthCheckRequest } from '../../../shared/agent/grpc-probe.js';
import { probeOnce, type ProbeTarget } from '../../../shared/agent/probes.js';
import { freePort } from '../../../local/ports.js';

/** kubelet's gRPC probe against a real gRPC health server (test/support/grpc-health-server.mjs) on loopback. */
let server: ChildProcess;
let port: number;
const target: ProbeTarget = { host: '127.0.0.1', ports: {}, exec: () => Promise.reject(new Error('no exec')) };

beforeAll(async () => {
  port = await freePort();
  server = spawn(
    process.execPath,
    [new URL('../../support/grpc-health-server.mjs', import.meta.url).pathname, String(port)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) => server.stdout?.once('data', () => resolve()));
});
afterAll(() => server?.kill());

describe('grpc.health.v1 messages', () => {
  it('encodes the request and reads the response as protobuf does', () => {
    expect(encodeHealthCheckRequest('')).toEqual(Buffer.alloc(0));
    expect(encodeHealthCheckRequest('app')).toEqual(Buffer.from([0x0a, 3, 0x61, 0x70, 0x70]));
    expect(decodeHealthCheckResponse(Buffer.from([0x08, 1]))).toBe('SERVING');
    expect(decodeHealthCheckResponse(Buffer.alloc(0))).toBe('UNKNOWN');
    // An unknown length-delimited field before the status is skipped.
    expect(decodeHealthCheckResponse(Buffer.from([0x12, 2, 0x61, 0x62, 0x08, 2]))).toBe('NOT_SERVING');
  });
});

describe('probeOnce with grpc', () => {
  it.each([
    ['the server as a whole', '', true, 'service healthy'],
    ['a named service that serves', 'app', true, 'service healthy'],
    ['a service that does not serve', 'sick', false, 'service unhealthy (responded with "NOT_SERVING")'],
    ['an unknown service', 'other', false, 'error: health rpc probe failed'],
  ])('%s', async (_, service, ok, message) => {
    const r = await probeOnce({ grpc: { port, service }, timeoutSeconds: 2 }, target);
    expect(r.message).toContain(message);
    expect(r.ok).toBe(ok);
  });

  it('fails within the timeout when nothing listens', async () => {
    const started = Date.now();
    const r = await probeOnce({ grpc: { port: await freePort() }, timeoutSeconds: 1 }, target);
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/^timeout: failed to connect service "127\.0\.0\.1:\d+" within 1s/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
