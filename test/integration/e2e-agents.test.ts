import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfig } from '../../local/kubeconfig.js';
import type { Agent } from '../../shared/agent/agent.js';
import { startAgentStack, type AgentStack } from '../support/agents.js';
import { until } from '../support/wait.js';

/**
 * Controllers end to end with real agents (process runtime) on the offline control plane: the
 * Deployment, Job and node lifecycle behaviour a Kubernetes user relies on. Node timings are short
 * (1 s heartbeat, 3 s grace, 2 s toleration) so a node failure plays out within the test.
 */
const GRACE_S = 3;
const TOLERATION_S = 2;
let s: AgentStack;
const run = promisify(execFile);
const kubectlPath = await run('sh', ['-c', 'command -v kubectl']).then(
  (r) => r.stdout.trim(),
  () => '',
);
/** The real kubectl against this stack; its standard output. */
async function kubectl(...args: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kumo-e2e-kubectl-'));
  writeFileSync(join(dir, 'kubeconfig'), kubeconfig({ server: s.url }));
  return (
    await run(kubectlPath, ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), ...args], {
      timeout: 90_000,
    })
  ).stdout;
}
const agents: Record<string, Agent> = {};

const api = (method: string, path: string, body?: unknown, contentType?: string) =>
  s.call(method, path, body, contentType);
const pods = async (selector: string) =>
  (
    (await api('GET', `/api/v1/namespaces/default/pods?labelSelector=${encodeURIComponent(selector)}`)).json
      .items as any[]
  ).filter((p) => !p.metadata.deletionTimestamp);
const running = (ps: any[]) => ps.filter((p) => p.status?.phase === 'Running');
const ready = (ps: any[]) =>
  ps.filter((p) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
const deployment = async (name: string) =>
  (await api('GET', `/apis/apps/v1/namespaces/default/deployments/${name}`)).json;

const web = (replicas: number, version: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 2 } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'web',
            image: 'busybox:1.36',
            command: ['sh', '-c', 'echo "$VERSION"; exec sleep 600'],
            env: [{ name: 'VERSION', value: version }],
            resources: { requests: { cpu: '50m', memory: '16Mi' } },
          },
        ],
      },
    },
  },
});

beforeAll(async () => {
  s = await startAgentStack(
    { heartbeatSeconds: 1, resyncSeconds: 5 },
    { graceSeconds: GRACE_S, tolerationSeconds: TOLERATION_S, sweepIntervalMs: 1000 },
  );
  for (const n of ['node-a', 'node-b', 'node-c']) agents[n] = await s.startAgent(n, { cpu: '2' });
  // Every node Ready before the first pod is placed: one that reports later than the scheduler's first
  // pass would get none of the Deployment's pods (CI once placed all ten on two nodes).
  await until(async () => {
    const nodes = (await api('GET', '/api/v1/nodes')).json.items as any[];
    return (
      nodes.filter((n) => n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')).length ===
      3
    );
  }, 60_000);
  // ...and Ready as the scheduler sees them: its snapshot may predate the last node's readiness by a
  // few seconds (CI once placed all ten pods on two nodes). A probe pinned to each node is bound only
  // once the scheduler sees that node fit, and a probe that fits nowhere makes it reload its snapshot.
  for (const n of ['node-a', 'node-b', 'node-c'])
    await api('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `probe-${n}`, labels: { app: 'probe' } },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': n },
        terminationGracePeriodSeconds: 0,
        containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '600'] }],
      },
    });
  await until(async () => (await pods('app=probe')).filter((p) => p.spec?.nodeName).length === 3, 60_000);
  for (const n of ['node-a', 'node-b', 'node-c'])
    await api('DELETE', `/api/v1/namespaces/default/pods/probe-${n}?gracePeriodSeconds=0`);
  await until(async () => (await pods('app=probe')).length === 0, 60_000);
}, 120_000);
afterAll(async () => s?.close());

describe('Deployments with real agents', () => {
  it('brings 10 replicas to Running over 3 agents, spread across them', async () => {
    expect((await api('POST', '/apis/apps/v1/namespaces/default/deployments', web(10, 'v1'))).status).toBe(201);
    await until(
      async () =>
        running(await pods('app=web')).length === 10 && (await deployment('web')).status?.readyReplicas === 10,
      60_000,
    );
    const perNode = new Map<string, number>();
    for (const p of await pods('app=web')) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
    expect([...perNode.keys()].sort()).toEqual(['node-a', 'node-b', 'node-c']);
    expect(Math.max(...perNode.values())).toBeLessThanOrEqual(5);
  });

  it('rolls out a new template within maxSurge and maxUnavailable at every observed instant, then rolls back', async () => {
    const observed: { total: number; ready: number }[] = [];
    expect(
      (
        await api('PUT', '/apis/apps/v1/namespaces/default/deployments/web', {
          ...web(10, 'v2'),
          metadata: { name: 'web', namespace: 'default' },
        })
      ).status,
    ).toBe(200);
    await until(async () => {
      const ps = await pods('app=web');
      observed.push({ total: ps.length, ready: ready(ps).length });
      const d = await deployment('web');
      return (
        d.status?.updatedReplicas === 10 &&
        d.status?.availableReplicas === 10 &&
        d.status?.replicas === 10 &&
        d.status.observedGeneration === d.metadata.generation
      );
    }, 90_000);
    expect(Math.max(...observed.map((o) => o.total))).toBeLessThanOrEqual(12);
    expect(Math.min(...observed.map((o) => o.ready))).toBeGreaterThanOrEqual(8);
    const v2 = await pods('app=web');
    expect(v2.every((p) => p.spec.containers[0].env[0].value === 'v2')).toBe(true);

    // The Deployment names its current revision, as in Kubernetes (kubectl describe and rollout undo read it).
    expect((await deployment('web')).metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');

    // Rollback with the real `kubectl rollout undo` (a JSON patch of the template and of the annotations):
    // the template of revision 1 again, whose ReplicaSet is reused and becomes revision 3.
    const before = (
      (await api('GET', '/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dweb')).json.items as any[]
    )
      .map((r) => r.metadata.name)
      .sort();
    if (kubectlPath) {
      expect(await kubectl('rollout', 'undo', 'deployment/web')).toBe('deployment.apps/web rolled back\n');
    } else {
      console.warn('kubectl is not on PATH: the rollback is written as kubectl would write its template');
      expect((await api('PUT', '/apis/apps/v1/namespaces/default/deployments/web', web(10, 'v1'))).status).toBe(200);
    }
    await until(async () => {
      const ps = await pods('app=web');
      const d = await deployment('web');
      return (
        ps.length === 10 &&
        ps.every((p) => p.spec.containers[0].env[0].value === 'v1' && p.status?.phase === 'Running') &&
        d.status?.updatedReplicas === 10 &&
        d.status?.availableReplicas === 10
      );
    }, 90_000);
    const after = (
      (await api('GET', '/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dweb')).json.items as any[]
    )
      .map((r) => r.metadata.name)
      .sort();
    expect(after).toEqual(before);
    await until(
      async () => (await deployment('web')).metadata.annotations?.['deployment.kubernetes.io/revision'] === '3',
      10_000,
    );
  });

  it('moves the pods of a dead node to the survivors within grace + toleration + 15 s', async () => {
    const victim = (await pods('app=web')).map((p) => p.spec.nodeName).find((n) => n === 'node-c') ?? 'node-c';
    const t0 = Date.now();
    await agents[victim]?.stop({ stopPods: true }); // the machine is gone: its agent and its containers
    await until(
      async () => {
        const ps = await pods('app=web');
        return ps.length === 10 && running(ps).length === 10 && ps.every((p) => p.spec.nodeName !== victim);
      },
      (GRACE_S + TOLERATION_S + 15) * 1000,
    );
    const elapsed = (Date.now() - t0) / 1000;
    expect(elapsed).toBeLessThan(GRACE_S + TOLERATION_S + 15);
    const node = (await api('GET', `/api/v1/nodes/${victim}`)).json;
    expect(node.status.conditions.find((c: any) => c.type === 'Ready').status).toBe('Unknown');
    expect(node.spec.taints).toContainEqual(
      expect.objectContaining({ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }),
    );
    const reasons = ((await api('GET', '/api/v1/namespaces/default/events')).json.items as any[]).map((e) => e.reason);
    expect(reasons).toContain('TaintManagerEviction');
  });

  it('a node that comes back is Ready and untainted again', async () => {
    agents['node-c'] = await s.startAgent('node-c', { cpu: '2' });
    await until(async () => {
      const node = (await api('GET', '/api/v1/nodes/node-c')).json;
      return (
        node.status.conditions.find((c: any) => c.type === 'Ready').status === 'True' &&
        !(node.spec.taints ?? []).some((t: any) => t.key === 'node.kubernetes.io/unreachable')
      );
      // Generous: with this test's 3 s grace, a loaded CI machine can delay a heartbeat past it and fence the node once more before it settles.
    }, 45_000);
  });

  it.skipIf(!kubectlPath)(
    "kubectl drain evicts a node's pods, which run on the others; uncordon opens it again",
    async () => {
      const target = 'node-b';
      expect((await pods('app=web')).some((p) => p.spec.nodeName === target)).toBe(true);
      const out = await kubectl('drain', target, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=60s');
      expect(out).toMatch(/evicted\n/);
      expect(out).toContain(`node/${target} drained`);
      expect((await api('GET', `/api/v1/nodes/${target}`)).json.spec.unschedulable).toBe(true);
      await until(async () => {
        const ps = await pods('app=web');
        return ps.length === 10 && running(ps).length === 10 && ps.every((p) => p.spec.nodeName !== target);
      }, 60_000);
      expect(await kubectl('uncordon', target)).toBe(`node/${target} uncordoned\n`);
      expect((await api('GET', `/api/v1/nodes/${target}`)).json.spec.unschedulable).toBeFalsy();
    },
    120_000,
  );

  it('deleting the Deployment leaves no ReplicaSets or Pods behind', async () => {
    expect((await api('DELETE', '/apis/apps/v1/namespaces/default/deployments/web')).status).toBe(200);
    await until(async () => {
      const rs = (await api('GET', '/apis/apps/v1/namespaces/default/replicasets')).json.items.length;
      const all = (await api('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb')).json.items.length;
      return rs === 0 && all === 0;
    }, 60_000);
  });
});

describe('Jobs with real agents', () => {
  const job = (name: string, command: string, spec: Record<string, unknown>) => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: {
      ...spec,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'work',
              image: 'busybox:1.36',
              command: ['sh', '-c', command],
              resources: { requests: { cpu: '10m', memory: '8Mi' } },
            },
          ],
        },
      },
    },
  });

  it('runs completions: 5 with parallelism: 2 to Complete, never more than 2 at once', async () => {
    expect(
      (
        await api(
          'POST',
          '/apis/batch/v1/namespaces/default/jobs',
          job('five', 'sleep 0.5', { completions: 5, parallelism: 2 }),
        )
      ).status,
    ).toBe(201);
    let maxActive = 0;
    await until(async () => {
      const j = (await api('GET', '/apis/batch/v1/namespaces/default/jobs/five')).json;
      maxActive = Math.max(maxActive, running(await pods('job-name=five')).length);
      return (
        j.status?.succeeded === 5 && j.status.conditions?.some((c: any) => c.type === 'Complete' && c.status === 'True')
      );
    }, 60_000);
    expect(maxActive).toBeLessThanOrEqual(2);
  });

  it('stops a failing Job at its backoffLimit with reason BackoffLimitExceeded', async () => {
    expect(
      (await api('POST', '/apis/batch/v1/namespaces/default/jobs', job('doomed', 'exit 1', { backoffLimit: 2 })))
        .status,
    ).toBe(201);
    await until(
      async () =>
        (await api('GET', '/apis/batch/v1/namespaces/default/jobs/doomed')).json.status?.conditions?.some(
          (c: any) => c.type === 'Failed' && c.reason === 'BackoffLimitExceeded',
        ),
      60_000,
    );
    const j = (await api('GET', '/apis/batch/v1/namespaces/default/jobs/doomed')).json;
    expect(j.status.failed).toBe(3);
  });
});
