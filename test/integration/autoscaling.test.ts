import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentStack, type AgentStack } from '../support/agents.js';
import { kubectlFor, kubectlPath, type Kubectl } from '../support/kubectl.js';
import { T, until } from '../support/wait.js';

/**
 * Resource metrics and the HorizontalPodAutoscaler (issue 20) on real agents (the process runtime,
 * whose pods are process groups measured in /proc), through the real event path and API, with the
 * real kubectl: `kubectl top` shows a pod burning a core; an HPA scales its Deployment up while it
 * burns and back down after the stabilization window once it stops; `kubectl autoscale` (which POSTs
 * autoscaling/v1 as protobuf) makes an HPA the v2 API serves.
 */
let s: AgentStack;
let k: Kubectl;
let flag: string;
const ns = 'default';

beforeAll(async () => {
  // Heartbeats every 2 s: metrics ride on them, so a test sees load within seconds.
  s = await startAgentStack({ heartbeatSeconds: 2, resyncSeconds: 5 });
  await s.startAgent('hpa-a', { cpu: '4' });
  k = kubectlFor(s.url);
  flag = join(k.dir, 'burn');
}, 120_000);
afterAll(async () => {
  if (flag) rmSync(flag, { force: true });
  await s?.close();
});

const hpa = async () => s.api.service.get(T('HorizontalPodAutoscaler'), ns, 'burn');
const replicas = async () => (await s.api.service.get(T('Deployment'), ns, 'burn')).spec?.replicas;

// Busy while the flag file exists (the process runtime shares the host's files), idle otherwise.
const manifest = (file: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: burn
spec:
  replicas: 1
  selector:
    matchLabels: {app: burn}
  template:
    metadata:
      labels: {app: burn}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: burn
        image: busybox:1.36
        command: ["sh", "-c", "while :; do if [ -e ${file} ]; then :; else sleep 0.5; fi; done"]
        resources:
          requests: {cpu: 100m}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: burn
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: burn}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {type: Utilization, averageUtilization: 50}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 10
`;

describe.skipIf(!kubectlPath)('resource metrics and the HorizontalPodAutoscaler', () => {
  it('kubectl top shows the load, and the HPA scales up while it lasts and down after the window', async () => {
    writeFileSync(flag, '');
    const file = join(k.dir, 'burn.yaml');
    writeFileSync(file, manifest(flag));
    expect(await k.ok('apply', '-f', file)).toBe(
      'deployment.apps/burn created\nhorizontalpodautoscaler.autoscaling/burn created\n',
    );
    // The busy pod's use, as kubectl top prints it (millicores): most of a core.
    await until(async () => {
      const r = await k.run('top', 'pods', '-l', 'app=burn', '--no-headers');
      const cpu = /^burn-\S+\s+(\d+)m\s+\d+Mi/m.exec(r.out);
      return r.code === 0 && Number(cpu?.[1]) >= 500;
    }, 60_000);
    expect(await k.ok('top', 'nodes', '--no-headers')).toMatch(/^hpa-a\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%/);
    // Far above its 50% target: to the maximum, with Kubernetes' event and conditions.
    await until(async () => (await replicas()) === 3, 60_000);
    // The next evaluation sees the three (the REPLICAS column is what the last one saw, as in Kubernetes).
    await until(async () => (await hpa()).status?.currentReplicas === 3, 30_000);
    const scaled = await hpa();
    expect((scaled.status?.conditions as any[]).map((c) => `${c.type}=${c.status}`)).toEqual([
      'AbleToScale=True',
      'ScalingActive=True',
      'ScalingLimited=True',
    ]);
    const events = (await s.api.service.list(T('Event'), ns)).items.filter(
      (e) => (e as any).involvedObject?.kind === 'HorizontalPodAutoscaler' && e.reason === 'SuccessfulRescale',
    );
    expect(events.map((e) => e.message)).toContain(
      'New size: 3; reason: cpu resource utilization (percentage of request) above target',
    );
    expect(await k.ok('get', 'hpa', 'burn', '--no-headers')).toMatch(
      /^burn\s+Deployment\/burn\s+cpu: \d+%\/50%\s+1\s+3\s+3\s+\S+\n$/,
    );
    // The load stops: once the 10 s window has passed without a higher recommendation, back to one.
    rmSync(flag);
    await until(async () => (await replicas()) === 1, 90_000);
    // Its event is written when the evaluation ends, a moment after the scale (CI once read it before).
    const rescales = async () =>
      (await s.api.service.list(T('Event'), ns)).items
        .filter(
          (e) => (e as any).involvedObject?.kind === 'HorizontalPodAutoscaler' && e.reason === 'SuccessfulRescale',
        )
        .map((e) => e.message);
    await until(async () => (await rescales()).length > 1, 15_000);
    expect(await rescales()).toContain('New size: 1; reason: All metrics below target');
  }, 240_000);

  it('kubectl autoscale creates an autoscaling/v1 HPA that v2 serves with its CPU target; bad input is refused', async () => {
    await k.ok('create', 'deployment', 'quiet', '--image=busybox:1.36', '--', 'sleep', '600');
    expect(await k.ok('autoscale', 'deployment', 'quiet', '--min=2', '--max=4', '--cpu-percent=70')).toBe(
      'horizontalpodautoscaler.autoscaling/quiet autoscaled\n',
    );
    const v2 = await s.call('GET', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/quiet');
    expect(v2.json.spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 4,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
      ],
    });
    // The minimum is applied at once (the target has 1), and v1 shows it all in its own shape.
    await until(async () => (await s.api.service.get(T('Deployment'), ns, 'quiet')).spec?.replicas === 2, 30_000);
    const v1 = await s.call('GET', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/quiet');
    expect(v1.json).toMatchObject({
      apiVersion: 'autoscaling/v1',
      spec: { minReplicas: 2, maxReplicas: 4, targetCPUUtilizationPercentage: 70 },
    });
    expect(JSON.parse(v1.json.metadata.annotations['autoscaling.alpha.kubernetes.io/conditions'])[0]).toMatchObject({
      type: 'AbleToScale',
    });
    // A v1 patch (kubectl patch, a client-side apply) changes the v2 object.
    await k.ok('patch', 'hpa.v1.autoscaling', 'quiet', '--type=merge', '-p', '{"spec":{"maxReplicas":5}}');
    expect((await s.api.service.get(T('HorizontalPodAutoscaler'), ns, 'quiet')).spec?.maxReplicas).toBe(5);
    // A second HPA on the same Deployment: neither may scale its pods (Kubernetes' AmbiguousSelector).
    await k.ok('autoscale', 'deployment', 'quiet', '--name=rival', '--max=3');
    await until(async () => {
      const c = (await s.api.service.get(T('HorizontalPodAutoscaler'), ns, 'quiet')).status?.conditions as any[];
      return c?.some((x) => x.type === 'ScalingActive' && x.reason === 'AmbiguousSelector');
    }, 45_000);

    // A v2 body sent to the v1 path is refused, not converted as if it were v1.
    const mixed = await s.call('POST', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers', {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'mixed' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'quiet' }, maxReplicas: 2 },
    });
    expect(mixed.status).toBe(400);
    expect(mixed.json.message).toContain('do not match the request path, which serves autoscaling/v1');
    const bad = await s.call('POST', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers', {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'bad' },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'quiet' },
        minReplicas: 0,
        maxReplicas: 0,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } }],
      },
    });
    expect(bad.status).toBe(422);
    expect(bad.json.details.causes.map((c: any) => `${c.field}: ${c.message}`)).toEqual([
      'spec.minReplicas: Invalid value: 0: must be greater than or equal to 1',
      'spec.maxReplicas: Invalid value: 0: must be greater than 0',
      'spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization',
    ]);
  }, 120_000);
});
