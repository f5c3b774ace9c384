import { connect } from 'node:net';
import { httpCall } from '../util/http-call.js';
import { grpcProbe } from './grpc-probe.js';
import { systemTimers, type Timers } from '../util/timers.js';

/** A container probe as the Pod spec declares it (httpGet, tcpSocket, exec or grpc). */
export interface ProbeSpec {
  httpGet?: {
    path?: string;
    port: number | string;
    host?: string;
    scheme?: string;
    httpHeaders?: { name: string; value: string }[];
  };
  tcpSocket?: { port: number | string; host?: string };
  exec?: { command?: string[] };
  grpc?: { port: number; service?: string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export interface ProbeTarget {
  /** The address probes connect to: the container's IP, or the node's for host-network runtimes. */
  host: string;
  /** Named container ports. */
  ports: Record<string, number>;
  exec(command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
}

export interface ProbeOutcome {
  ok: boolean;
  message: string;
}

function portOf(port: number | string, target: ProbeTarget): number {
  if (typeof port === 'number') return port;
  const named = target.ports[port] ?? Number(port);
  if (!Number.isInteger(named) || named <= 0) throw new Error(`port ${JSON.stringify(port)} is not a container port`);
  return named;
}

/** One attempt, like kubelet's prober: HTTP 200–399, a TCP connection, exit code 0, or gRPC SERVING. */
export async function probeOnce(probe: ProbeSpec, target: ProbeTarget): Promise<ProbeOutcome> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.httpGet) {
      const h = probe.httpGet;
      const url = `${(h.scheme ?? 'HTTP').toLowerCase()}://${h.host ?? target.host}:${portOf(h.port, target)}${h.path ?? '/'}`;
      const res = await httpCall('GET', url, {
        timeoutMs,
        headers: {
          'user-agent': 'kube-probe/kumo',
          ...Object.fromEntries((h.httpHeaders ?? []).map((x) => [x.name, x.value])),
        },
      });
      return res.status >= 200 && res.status < 400
        ? { ok: true, message: '' }
        : { ok: false, message: `HTTP probe failed with statuscode: ${res.status}` };
    }
    if (probe.tcpSocket) {
      const port = portOf(probe.tcpSocket.port, target);
      const host = probe.tcpSocket.host ?? target.host;
      await new Promise<void>((resolve, reject) => {
        const s = connect({ host, port, timeout: timeoutMs });
        s.once('connect', () => (s.destroy(), resolve()));
        s.once('timeout', () => (s.destroy(), reject(new Error(`dial tcp ${host}:${port}: i/o timeout`))));
        s.once('error', reject);
      });
      return { ok: true, message: '' };
    }
    if (probe.exec?.command?.length) {
      const r = await target.exec(probe.exec.command, timeoutMs);
      return r.exitCode === 0
        ? { ok: true, message: '' }
        : {
            ok: false,
            message: `command ${JSON.stringify(probe.exec.command)} exited with ${r.exitCode}: ${r.output.trim().slice(0, 200)}`,
          };
    }
    if (probe.grpc) return await grpcProbe(target.host, probe.grpc.port, probe.grpc.service ?? '', timeoutMs);
    return { ok: false, message: 'probe has no handler (httpGet, tcpSocket, exec or grpc)' };
  } catch (e) {
    return { ok: false, message: `probe failed: ${(e as Error).message}` };
  }
}

/**
 * Runs a probe every period after the initial delay and reports each attempt with the consecutive
 * count, so callers act when a threshold is crossed (restart on liveness, Ready on readiness).
 */
export class ProbeLoop {
  private cancelTimer?: () => void;
  private stopped = false;
  private successes = 0;
  private failures = 0;

  constructor(
    private readonly probe: ProbeSpec,
    private readonly target: ProbeTarget,
    /** `passing` flips only when a threshold is crossed; `outcome` is the latest attempt. */
    private readonly onResult: (outcome: ProbeOutcome, passing: boolean | undefined, thresholdCrossed: boolean) => void,
    private readonly timers: Timers = systemTimers,
  ) {}

  private passing: boolean | undefined;

  start(): void {
    this.schedule((this.probe.initialDelaySeconds ?? 0) * 1000);
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
  }

  private schedule(ms: number) {
    if (this.stopped) return;
    this.cancelTimer = this.timers.after(ms, () => void this.tick());
  }

  private async tick() {
    const outcome = await probeOnce(this.probe, this.target);
    if (this.stopped) return;
    let crossed = false;
    if (outcome.ok) {
      this.failures = 0;
      this.successes++;
      if (this.passing !== true && this.successes >= (this.probe.successThreshold ?? 1)) {
        this.passing = true;
        crossed = true;
      }
    } else {
      this.successes = 0;
      this.failures++;
      if (this.passing !== false && this.failures >= (this.probe.failureThreshold ?? 3)) {
        this.passing = false;
        crossed = true;
      }
    }
    this.onResult(outcome, this.passing, crossed);
    this.schedule((this.probe.periodSeconds ?? 10) * 1000);
  }
}
