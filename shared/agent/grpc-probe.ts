/** What one gRPC probe attempt found (probes.ts's ProbeOutcome, declared here so the prober can import this file). */
export interface GrpcProbeOutcome {
  ok: boolean;
  message: string;
}

/**
 * kubelet's gRPC probe (pkg/probe/grpc/grpc.go): a plaintext connection to the pod's port, one
 * grpc.health.v1.Health/Check call for `service` within the probe's timeout, healthy only when the
 * answer is SERVING. Outcomes and messages follow kubelet's. The transport is @grpc/grpc-js, loaded on
 * the first gRPC probe so agents without one do not carry it; the two messages, one field each, are
 * encoded here (HealthCheckRequest{string service = 1}, HealthCheckResponse{ServingStatus status = 1}).
 */

const STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** A protobuf varint (lengths and enum values here are small). */
function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

export function encodeHealthCheckRequest(service: string): Buffer {
  if (!service) return Buffer.alloc(0); // proto3 leaves an empty string out
  const bytes = Buffer.from(service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a]), varint(bytes.length), bytes]);
}

/** The status of a HealthCheckResponse; unknown fields are skipped as protobuf readers do. */
export function decodeHealthCheckResponse(buf: Buffer): string {
  let i = 0;
  let status = 0;
  const readVarint = () => {
    let result = 0;
    let shift = 1;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new Error('truncated HealthCheckResponse');
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 128;
    }
  };
  while (i < buf.length) {
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) {
      const v = readVarint();
      if (field === 1) status = v;
    } else if (wire === 2) {
      const length = readVarint();
      i += length;
    } else if (wire === 5) i += 4;
    else if (wire === 1) i += 8;
    else throw new Error(`HealthCheckResponse has wire type ${wire}`);
  }
  return STATUS[status] ?? String(status);
}

export async function grpcProbe(
  host: string,
  port: number,
  service: string,
  timeoutMs: number,
): Promise<GrpcProbeOutcome> {
  const grpc = await import('@grpc/grpc-js');
  const addr = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const client = new grpc.Client(addr, grpc.credentials.createInsecure(), {
    'grpc.primary_user_agent': 'kube-probe/kumo',
  });
  const deadline = Date.now() + timeoutMs;
  const seconds = `${timeoutMs / 1000}s`;
  try {
    try {
      await new Promise<void>((resolve, reject) => client.waitForReady(deadline, (e) => (e ? reject(e) : resolve())));
    } catch (e) {
      return {
        ok: false,
        message: `timeout: failed to connect service "${addr}" within ${seconds}: ${(e as Error).message}`,
      };
    }
    const status = await new Promise<string>((resolve, reject) =>
      client.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        (req: string) => encodeHealthCheckRequest(req),
        (res: Buffer) => decodeHealthCheckResponse(res),
        service,
        new grpc.Metadata(),
        { deadline },
        (e, value) => (e ? reject(e) : resolve(value ?? 'UNKNOWN')),
      ),
    ).catch((e: { code?: number; details?: string; message?: string }) => {
      if (e.code === grpc.status.UNIMPLEMENTED)
        return {
          ok: false,
          message: `this server does not implement the grpc health protocol (grpc.health.v1.Health): ${e.details ?? ''}`,
        };
      if (e.code === grpc.status.DEADLINE_EXCEEDED)
        return { ok: false, message: `timeout: health rpc did not complete within ${seconds}` };
      return { ok: false, message: `error: health rpc probe failed: ${e.message ?? String(e)}` };
    });
    if (typeof status !== 'string') return status;
    return status === 'SERVING'
      ? { ok: true, message: 'service healthy' }
      : { ok: false, message: `service unhealthy (responded with "${status}")` };
  } finally {
    client.close();
  }
}
