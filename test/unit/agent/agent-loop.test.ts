import { describe, expect, it } from 'vitest';
import { Agent } from '../../../shared/agent/agent.js';
import type { NodeClient } from '../../../shared/agent/node-client.js';
import type { ContainerRuntime } from '../../../shared/agent/runtime/runtime.js';
import type { LogStore } from '../../../shared/logs/log-store.js';
import type { RegisterRequest, SyncRequest } from '../../../shared/nodes/protocol.js';
import { ManualTimers } from '../../support/manual-timers.js';

/**
 * The agent's loop on a manual clock: when it syncs, renews its lease and asks for assignments, and
 * how it backs off from an unreachable control plane, without waiting in real time. The control
 * plane and the container runtime are stand-ins: this is the loop's timing alone (the integration
 * suites run the same agent against the real API, DynamoDB Local and podman).
 */
function agentOnManualClock() {
  const timers = new ManualTimers();
  const syncs: { at: number; renew: boolean; fetch: boolean }[] = [];
  const reports: { at: number; metrics: SyncRequest['metrics'] }[] = [];
  const control = { failing: 0, registrations: 0, wantMetrics: true };
  const client: NodeClient = {
    register: async () => {
      control.registrations++;
      return { epoch: 1, heartbeatSeconds: 15, resyncSeconds: 60 };
    },
    sync: async (_node: string, req: SyncRequest) => {
      syncs.push({ at: timers.elapsed, renew: !!req.renew, fetch: !!req.fetch });
      reports.push({ at: timers.elapsed, metrics: req.metrics });
      if (control.failing > 0) {
        control.failing--;
        throw new Error('connect ECONNREFUSED');
      }
      return { epoch: 1, digest: 'empty', pods: [], ...(req.renew ? { sendMetrics: control.wantMetrics } : {}) };
    },
    get: async () => undefined,
    requestToken: async () => {
      throw new Error('no pods here ask for tokens');
    },
  };
  const runtime = {
    name: 'process',
    list: async () => [],
    listSandboxes: async () => [],
    usage: async () => new Map(),
    close: async () => {},
  } as unknown as ContainerRuntime;
  const agent = new Agent({
    nodeName: 'n1',
    client,
    runtime,
    logs: {} as LogStore,
    machine: {} as Omit<RegisterRequest, 'holder'>,
    holder: 'test',
    hostIP: '127.0.0.1',
    podsDir: '/nonexistent/kumo-agent-loop-test',
    // The machine as a counter: a tenth of a core busy, 64 MiB in use.
    nodeUsage: () => ({ cpuNanoSeconds: (timers.elapsed / 1000) * 1e8, memoryBytes: 64 * 2 ** 20 }),
    timers,
  });
  return { agent, timers, syncs, control, reports };
}

describe('the agent loop', () => {
  it('syncs at once, renews its lease every heartbeat and asks for assignments every resync', async () => {
    const { agent, timers, syncs, control } = agentOnManualClock();
    await agent.start();
    await timers.advance(0);
    expect(control.registrations).toBe(1);
    // Registering took the lease: the first sync fetches the assignments without renewing.
    expect(syncs).toEqual([{ at: 0, renew: false, fetch: true }]);
    await timers.advance(60_000);
    expect(syncs).toEqual([
      { at: 0, renew: false, fetch: true },
      { at: 15_000, renew: true, fetch: false },
      { at: 30_000, renew: true, fetch: false },
      { at: 45_000, renew: true, fetch: false },
      // The resync is due with this heartbeat: one call does both.
      { at: 60_000, renew: true, fetch: true },
    ]);
    await agent.stop();
  });

  it('backs off from an unreachable control plane (0.5 s doubling, capped at a heartbeat) and carries on when it answers', async () => {
    const { agent, timers, syncs, control } = agentOnManualClock();
    await agent.start();
    await timers.advance(0);
    control.failing = 6;
    await timers.advance(15_000); // the heartbeat fails, and the retries after it
    await timers.advance(31_000);
    const failed = syncs.slice(1, 7).map((s) => s.at);
    expect(failed).toEqual([15_000, 15_500, 16_500, 18_500, 22_500, 30_500]);
    // After the sixth failure the wait is capped at one heartbeat (15 s, not 16 s); a failed sync is
    // not accepted, so the first one that gets through still renews.
    expect(syncs[7]).toEqual({ at: 45_500, renew: true, fetch: false });
    expect(syncs.slice(1, 8).every((s) => s.renew)).toBe(true);
    await agent.stop();
  });

  it('reports resource usage with its renewals while asked, as a rate over the window since the last one', async () => {
    const { agent, timers, reports, control } = agentOnManualClock();
    await agent.start();
    await timers.advance(45_000);
    // Asked for with the first renewal's answer, which it measures at once: the next renewal reports.
    const usage = { windowSeconds: 15, node: { cpu: 100_000_000, memory: 64 * 2 ** 20 }, pods: [] };
    expect(reports.map((r) => [r.at, r.metrics])).toEqual([
      [0, undefined],
      [15_000, undefined],
      [30_000, usage],
      [45_000, usage],
    ]);
    // Nobody reads metrics any more: the renewals go without them.
    control.wantMetrics = false;
    await timers.advance(45_000);
    expect(reports.slice(4).map((r) => [r.at, r.metrics])).toEqual([
      [60_000, usage],
      [75_000, undefined],
      [90_000, undefined],
    ]);
    // Asked again: measured when asked, reported from the next renewal with the window since.
    control.wantMetrics = true;
    await timers.advance(45_000);
    expect(reports.slice(7).map((r) => [r.at, r.metrics])).toEqual([
      [105_000, undefined],
      [120_000, usage],
      [135_000, usage],
    ]);
    await agent.stop();
  });

  it('stops without waiting out a back-off', async () => {
    const { agent, timers, control } = agentOnManualClock();
    await agent.start();
    await timers.advance(0);
    control.failing = 100;
    await timers.advance(15_000);
    let stopped = false;
    void agent.stop().then(() => (stopped = true));
    await timers.advance(0);
    expect(stopped).toBe(true);
  });
});
