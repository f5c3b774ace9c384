import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/model/types.js';
import {
  planDeployment,
  resolveSurge,
  REVISION_ANNOTATION,
  templateHash,
  type ReplicaSetView,
} from '../../../shared/controllers/deployment/plan.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
type D = KubeObject & { metadata: { name: string; uid: string } };
function deployment(
  image: string,
  o: {
    replicas?: number;
    surge?: number | string;
    unavailable?: number | string;
    recreate?: boolean;
    history?: number;
    paused?: boolean;
    deadline?: number;
  } = {},
): D {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'd-uid', generation: 1 },
    spec: {
      replicas: o.replicas ?? 4,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } },
      strategy: o.recreate
        ? { type: 'Recreate' }
        : {
            type: 'RollingUpdate',
            rollingUpdate: { maxSurge: o.surge ?? '25%', maxUnavailable: o.unavailable ?? '25%' },
          },
      revisionHistoryLimit: o.history ?? 10,
      paused: o.paused,
      progressDeadlineSeconds: o.deadline ?? 600,
    },
  };
}

/** A tiny cluster: ReplicaSets get their pods at once; a pod is available one step after it appears. */
class Sim {
  rs = new Map<string, { obj: KubeObject & { metadata: { name: string } }; pods: number[] }>();
  views(): ReplicaSetView[] {
    return [...this.rs.values()].map(({ obj, pods }) => ({
      rs: obj,
      replicas: pods.length,
      available: pods.filter((age) => age >= 1).length,
      ready: pods.filter((age) => age >= 1).length,
    }));
  }
  apply(d: D, now = NOW) {
    const plan = planDeployment(d, this.views(), now);
    if (plan.createReplicaSet)
      this.rs.set(plan.createReplicaSet.metadata.name as string, { obj: plan.createReplicaSet as never, pods: [] });
    if (plan.revision) {
      const rs = this.rs.get(plan.revision.replicaSet)?.obj;
      if (rs) rs.metadata.annotations = { ...rs.metadata.annotations, [REVISION_ANNOTATION]: plan.revision.revision };
    }
    for (const [name, n] of Object.entries(plan.scale))
      (this.rs.get(name)?.obj.spec as { replicas: number }).replicas = n;
    for (const name of plan.deleteReplicaSets) this.rs.delete(name);
    return plan;
  }
  /** ReplicaSet controllers act: pods appear (unavailable) or the newest go away. */
  reconcilePods() {
    for (const r of this.rs.values()) {
      const want = (r.obj.spec as { replicas: number }).replicas;
      while (r.pods.length < want) r.pods.push(0);
      if (r.pods.length > want) r.pods.sort((a, b) => a - b).splice(0, r.pods.length - want);
    }
  }
  tick() {
    for (const r of this.rs.values()) r.pods = r.pods.map((a) => a + 1);
  }
  total = () => [...this.rs.values()].reduce((n, r) => n + r.pods.length, 0);
  available = () => this.views().reduce((n, v) => n + v.available, 0);
}

function rollOut(sim: Sim, d: D, steps = 40) {
  const observed: { total: number; available: number }[] = [];
  for (let i = 0; i < steps; i++) {
    sim.apply(d);
    sim.reconcilePods();
    observed.push({ total: sim.total(), available: sim.available() });
    sim.tick();
  }
  return observed;
}

describe('planDeployment', () => {
  it('creates the first ReplicaSet with the template hash label, selector and revision 1', () => {
    const plan = planDeployment(deployment('a'), [], NOW);
    const rs = plan.createReplicaSet as KubeObject;
    const hash = templateHash((deployment('a').spec as any).template);
    expect(rs.metadata.name).toBe(`web-${hash}`);
    expect(rs.metadata.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect((rs.spec as any).selector.matchLabels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs.metadata.annotations?.[REVISION_ANNOTATION]).toBe('1');
    expect((rs.spec as any).replicas).toBe(4);
  });

  it.each([
    [4, '25%', '25%', { surge: 1, unavailable: 1 }],
    [10, '25%', '25%', { surge: 3, unavailable: 2 }],
    [3, 0, 0, { surge: 0, unavailable: 1 }],
    [5, 2, '40%', { surge: 2, unavailable: 2 }],
  ])('resolves maxSurge/maxUnavailable for %i replicas', (replicas, surge, unavailable, expected) => {
    expect(resolveSurge(deployment('a', { replicas, surge, unavailable }), replicas)).toEqual(expected);
  });

  it('rolls out a new template within maxSurge and maxUnavailable at every step, then reports it complete', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
        (replicas, surge, unavailable) => {
          const sim = new Sim();
          rollOut(sim, deployment('a', { replicas, surge, unavailable }));
          const d2 = deployment('b', { replicas, surge, unavailable });
          const { surge: s, unavailable: u } = resolveSurge(d2, replicas);
          for (const step of rollOut(sim, d2)) {
            expect(step.total).toBeLessThanOrEqual(replicas + s);
            expect(step.available).toBeGreaterThanOrEqual(replicas - u);
          }
          const final = sim.apply(d2);
          expect(final.status).toMatchObject({
            replicas,
            updatedReplicas: replicas,
            availableReplicas: replicas,
            unavailableReplicas: 0,
          });
          expect((final.status.conditions as any[]).find((c) => c.type === 'Progressing')?.reason).toBe(
            'NewReplicaSetAvailable',
          );
          expect([...sim.rs.values()].map((r) => r.obj.metadata.annotations?.[REVISION_ANNOTATION]).sort()).toEqual([
            '1',
            '2',
          ]);
        },
      ),
    );
  });

  it('Recreate removes every old pod before the new template starts', () => {
    const sim = new Sim();
    rollOut(sim, deployment('a', { recreate: true }));
    const d2 = deployment('b', { recreate: true });
    const newName = `web-${templateHash((d2.spec as any).template)}`;
    for (let i = 0; i < 10; i++) {
      sim.apply(d2);
      sim.reconcilePods();
      const old = [...sim.rs.entries()].filter(([n]) => n !== newName).reduce((n, [, r]) => n + r.pods.length, 0);
      const fresh = sim.rs.get(newName)?.pods.length ?? 0;
      expect(old > 0 && fresh > 0).toBe(false);
      sim.tick();
    }
    expect(sim.rs.get(newName)?.pods.length).toBe(4);
  });

  it('going back to an earlier template reuses its ReplicaSet (rollout undo) and keeps revisionHistoryLimit', () => {
    const sim = new Sim();
    for (const image of ['a', 'b', 'c', 'd']) rollOut(sim, deployment(image, { history: 2 }), 20);
    // d is live; of a, b, c only the two newest old ones are kept.
    expect(sim.rs.size).toBe(3);
    rollOut(sim, deployment('c', { history: 2 }), 20);
    const revisions = [...sim.rs.values()].map((r) => [r.obj.metadata.name, (r.obj.spec as any).replicas]);
    expect(revisions.filter(([, n]) => n === 4).map(([name]) => name)).toEqual([
      `web-${templateHash((deployment('c').spec as any).template)}`,
    ]);
  });

  it('treats a template with creationTimestamp: null (as kubectl rollout undo sends it) as the same template', () => {
    const d = deployment('a');
    const withNull = structuredClone(d);
    (withNull.spec as any).template.metadata.creationTimestamp = null;
    expect(templateHash((withNull.spec as any).template)).toBe(templateHash((d.spec as any).template));
    const sim = new Sim();
    rollOut(sim, deployment('a'), 10);
    rollOut(sim, deployment('b'), 10);
    rollOut(sim, withNull, 10);
    expect(sim.rs.size).toBe(2);
    // The reused ReplicaSet becomes revision 3, as after kubectl rollout undo.
    expect(
      sim.rs.get(`web-${templateHash((d.spec as any).template)}`)?.obj.metadata.annotations?.[REVISION_ANNOTATION],
    ).toBe('3');
  });

  it("names the current revision for the Deployment's own annotation: 1, then 2 for a new template, then 3 when undone", () => {
    const sim = new Sim();
    expect(planDeployment(deployment('a'), [], NOW).revisionNow).toBe('1'); // its ReplicaSet is about to be created
    rollOut(sim, deployment('a'), 10);
    expect(sim.apply(deployment('a')).revisionNow).toBe('1');
    rollOut(sim, deployment('b'), 10);
    expect(sim.apply(deployment('b')).revisionNow).toBe('2');
    // Undo: revision 1's template again. Its ReplicaSet is renumbered 3 in this plan, and so is the Deployment.
    expect(sim.apply(deployment('a')).revisionNow).toBe('3');
    rollOut(sim, deployment('a'), 10);
    expect(sim.apply(deployment('a')).revisionNow).toBe('3');
  });

  it('reports ProgressDeadlineExceeded when nothing moves for progressDeadlineSeconds', () => {
    const d = deployment('a', { deadline: 60 });
    const stuck: ReplicaSetView[] = [];
    const first = planDeployment(d, stuck, NOW);
    d.status = first.status;
    const later = planDeployment(d, stuck, NOW + 61_000);
    expect((later.status.conditions as any[]).find((c) => c.type === 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
    });
  });

  it('does not roll out while paused: no ReplicaSet and no revision for the new template until resumed', () => {
    const sim = new Sim();
    rollOut(sim, deployment('a'));
    const plan = sim.apply(deployment('b', { paused: true }));
    expect(plan.createReplicaSet).toBeUndefined();
    expect(plan.scale).toEqual({});
    expect(plan.revisionNow).toBe('1');
    const pausedFromTheStart = planDeployment(deployment('a', { paused: true }), [], NOW);
    expect([pausedFromTheStart.createReplicaSet, pausedFromTheStart.revisionNow]).toEqual([undefined, undefined]);
    const resumed = sim.apply(deployment('b'));
    expect(resumed.createReplicaSet?.metadata.annotations?.[REVISION_ANNOTATION]).toBe('2');
    expect(resumed.revisionNow).toBe('2');
  });
});

describe('planDeployment when ReplicaSet controllers lag', () => {
  it('never lets running pods exceed replicas + maxSurge, even when scale-ups land before scale-downs', () => {
    const sim = new Sim();
    const v1 = deployment('a', { replicas: 10, surge: 2, unavailable: 2 });
    for (let i = 0; i < 3; i++) {
      sim.apply(v1);
      sim.reconcilePods();
      sim.tick();
    }
    const v2 = deployment('b', { replicas: 10, surge: 2, unavailable: 2 });
    let maxTotal = 0;
    for (let i = 0; i < 40; i++) {
      sim.apply(v2);
      // The worst order: ReplicaSets that grow get their pods first, and the Deployment looks again before the others shrink.
      for (const r of sim.rs.values()) {
        const want = (r.obj.spec as { replicas: number }).replicas;
        while (r.pods.length < want) r.pods.push(0);
      }
      maxTotal = Math.max(maxTotal, sim.total());
      sim.apply(v2);
      for (const r of sim.rs.values()) {
        const want = (r.obj.spec as { replicas: number }).replicas;
        while (r.pods.length < want) r.pods.push(0);
      }
      maxTotal = Math.max(maxTotal, sim.total());
      sim.reconcilePods();
      sim.tick();
    }
    expect(maxTotal).toBeLessThanOrEqual(12);
    expect(
      [...sim.rs.values()].find((r) => (r.obj.spec as any).template.spec.containers[0].image === 'b')?.pods.length,
    ).toBe(10);
  });
});
