import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredObject } from '../../shared/model/types.js';
import { startAgentStack, type AgentStack } from '../support/agents.js';
import { kubectlFor, kubectlPath, type Kubectl } from '../support/kubectl.js';
import { T, until } from '../support/wait.js';

/**
 * DaemonSets (issue 20) on real agents (the process runtime), through the real event path and API,
 * with the real kubectl: a pod on each of three nodes, a fourth node joining, taints (NoSchedule keeps
 * the pod there, NoExecute removes it), and a rolling update that never has more than maxUnavailable
 * nodes without a ready pod.
 */
let s: AgentStack;
let k: Kubectl;
const ns = 'default';

beforeAll(async () => {
  s = await startAgentStack();
  for (const n of ['ds-a', 'ds-b', 'ds-c']) await s.startAgent(n);
  k = kubectlFor(s.url);
}, 120_000);
afterAll(() => s?.close());

const pods = async () =>
  (await s.api.service.list(T('Pod'), ns, { labelSelector: 'app=logs' })).items.filter(
    (p) => !p.metadata.deletionTimestamp,
  );
const running = async () =>
  (await pods())
    .filter(
      (p) =>
        p.status?.phase === 'Running' &&
        (p.status?.conditions as any[])?.some((c) => c.type === 'Ready' && c.status === 'True'),
    )
    .map((p) => p.spec?.nodeName as string)
    .sort();
const ds = async () => s.api.service.get(T('DaemonSet'), ns, 'logs');

const manifest = (version: string) => `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: logs
spec:
  selector:
    matchLabels:
      app: logs
  template:
    metadata:
      labels:
        app: logs
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: shipper
        image: busybox:1.36
        command: ["sh", "-c", "exec sleep 600"]
        env:
        - name: VERSION
          value: "${version}"
`;

describe.skipIf(!kubectlPath)('DaemonSet', () => {
  it('runs a pod on every node, and on a node that joins', async () => {
    const file = join(k.dir, 'logs.yaml');
    writeFileSync(file, manifest('1'));
    expect(await k.ok('apply', '-f', file)).toBe('daemonset.apps/logs created\n');
    await until(async () => JSON.stringify(await running()) === JSON.stringify(['ds-a', 'ds-b', 'ds-c']), 60_000);
    await until(async () => (await ds()).status?.numberReady === 3, 30_000);
    expect(await k.ok('get', 'ds', 'logs', '--no-headers')).toMatch(/^logs\s+3\s+3\s+3\s+3\s+3\s+<none>\s+\S+\n$/);
    const [p] = await pods();
    expect((p?.spec as any).tolerations).toContainEqual({
      key: 'node.kubernetes.io/unreachable',
      operator: 'Exists',
      effect: 'NoExecute',
    });
    await s.startAgent('ds-d');
    await until(async () => (await running()).length === 4, 60_000);
    expect(await running()).toEqual(['ds-a', 'ds-b', 'ds-c', 'ds-d']);
    await until(async () => (await ds()).status?.desiredNumberScheduled === 4, 30_000);
  });

  it('keeps its pod on a node tainted NoSchedule, and removes it from one tainted NoExecute', async () => {
    await k.ok('taint', 'node', 'ds-c', 'maintenance=soon:NoSchedule');
    await k.ok('taint', 'node', 'ds-d', 'maintenance=now:NoExecute');
    await until(async () => !(await running()).includes('ds-d'), 60_000);
    await until(async () => (await ds()).status?.numberMisscheduled === 1, 30_000);
    expect(await running()).toEqual(['ds-a', 'ds-b', 'ds-c']);
    expect((await ds()).status).toMatchObject({ desiredNumberScheduled: 2, numberMisscheduled: 1 });
    await k.ok('taint', 'node', 'ds-c', 'maintenance-');
    await k.ok('taint', 'node', 'ds-d', 'maintenance-');
    await until(async () => (await running()).length === 4, 60_000);
  });

  it('rolls an update node by node, never with more than maxUnavailable nodes lacking a ready pod', async () => {
    const file = join(k.dir, 'logs.yaml');
    writeFileSync(file, manifest('2'));
    await k.ok('apply', '-f', file);
    let worst = 0;
    const version = (p: StoredObject) => (p.spec as any).containers[0].env[0].value;
    await until(async () => {
      const ready = await running();
      worst = Math.max(worst, 4 - new Set(ready).size);
      const current = (await pods()).filter((p) => version(p) === '2' && p.status?.phase === 'Running');
      return current.length === 4 && ready.length === 4;
    }, 120_000);
    expect(worst).toBeLessThanOrEqual(1);
    // The pods are Ready before the DaemonSet's status says so (the next reconcile writes it); kubectl
    // prints a "Waiting for …" line per status it sees before that, so the last line is the verdict.
    await until(async () => {
      const st = (await ds()).status;
      return st?.updatedNumberScheduled === 4 && st?.numberAvailable === 4;
    }, 30_000);
    expect(await k.ok('rollout', 'status', 'ds/logs', '--timeout=60s')).toMatch(
      /(^|\n)daemon set "logs" successfully rolled out\n$/,
    );
    const history = await k.ok('rollout', 'history', 'ds/logs');
    expect(history).toMatch(/^daemonset\.apps\/logs \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
  });

  it('goes with its pods when deleted', async () => {
    await k.ok('delete', 'ds', 'logs');
    await until(async () => (await pods()).length === 0, 60_000);
  });
});
