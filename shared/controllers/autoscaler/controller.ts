import { ConflictError, NotFoundError, StatusError } from '../../model/errors.js';
import { isPlainObject, jsonEqual } from '../../model/json.js';
import { typeByKindName, typeForKind, type ResourceType } from '../../model/kinds.js';
import { matchesLabels, parseLabelSelector } from '../../model/selectors.js';
import type { KubeObject, StoredObject } from '../../model/types.js';
import { scaleOf } from '../../model/scale.js';
import { listAll } from '../../store/list-all.js';
import { FRESH_FOR_MS, type MetricsStore } from '../../store/metrics.js';
import type { SideItems } from '../../store/side-items.js';
import type { ControllerDeps, ObjectRef, ReconcileResult } from '../types.js';
import type { History } from './behavior.js';
import { planAutoscaler, rescaleFailed, type AutoscalerInput, type PodSample } from './plan.js';

/** What an autoscaler remembers between evaluations (Kubernetes keeps it in the controller's memory). */
export interface AutoscalerMemory {
  key: string;
  uid: string;
  evaluatedAtMs: number;
  /** The target's selector at that evaluation: another HPA of the namespace checks its pods against it. */
  selector?: string;
  history: History;
}

export interface AutoscalerDeps {
  metrics: MetricsStore;
  memory: SideItems<AutoscalerMemory>;
}

/** --horizontal-pod-autoscaler-sync-period. */
export const SYNC_PERIOD_MS = 15_000;
/**
 * A reconcile this soon after the last evaluation is a duplicate (its own status write, the sweep):
 * it neither evaluates nor continues the chain, so however many chains start, one survives.
 */
const DUPLICATE_WITHIN_MS = 10_000;

const emptyHistory = (): History => ({ recommendations: [], scaleUpEvents: [], scaleDownEvents: [] });

/**
 * The horizontal pod autoscaler (kube-controller-manager's podautoscaler): every 15 s per HPA, a
 * delayed reconcile of the HPA's own key reads the target's scale, its pods and their metrics, and sets
 * the replicas planAutoscaler asks for through the target's scale (any kind with a scale subresource).
 * Nothing runs while no HPA exists; the minute sweep restarts a chain whose message was lost.
 */
export class AutoscalerController {
  constructor(
    private readonly deps: ControllerDeps,
    private readonly parts: AutoscalerDeps,
  ) {}

  async reconcile({ namespace, name }: ObjectRef): Promise<ReconcileResult> {
    const hpa = await this.deps.store.get({ kind: 'HorizontalPodAutoscaler', namespace, name });
    if (!hpa || hpa.metadata.deletionTimestamp) return {};
    const key = `${namespace}/${name}`;
    const now = this.deps.clock.now().getTime();
    const [remembered] = await this.parts.memory.get([key]);
    const memory = remembered?.uid === hpa.metadata.uid ? remembered : undefined;
    if (memory && now - memory.evaluatedAtMs < DUPLICATE_WITHIN_MS) return {};
    return (await this.evaluate(hpa, memory?.history ?? emptyHistory(), now)) ? { requeueAfterMs: SYNC_PERIOD_MS } : {};
  }

  /** One evaluation; false when another reconcile evaluated this HPA meanwhile (this one then changes nothing). */
  private async evaluate(hpa: StoredObject, history: History, now: number): Promise<boolean> {
    // While an HPA exists, agents report usage.
    await this.parts.metrics.want(now);
    const namespace = hpa.metadata.namespace ?? '';
    const given = isPlainObject(hpa.spec?.scaleTargetRef) ? hpa.spec.scaleTargetRef : {};
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const ref = { apiVersion: str(given.apiVersion), kind: str(given.kind), name: str(given.name) };
    const target = await this.target(namespace, ref);
    const input: AutoscalerInput = { hpa, scale: target.scale, pods: [], samples: new Map(), history, nowMs: now };
    if (!('error' in target.scale)) {
      const selector = parseLabelSelector(target.scale.selector);
      input.pods = target.scale.selector
        ? (await listAll(this.deps.store, { kind: 'Pod', namespace })).filter((p) =>
            matchesLabels(selector, p.metadata.labels),
          )
        : [];
      input.samples = await this.samples(input.pods, now);
      input.ambiguous = await this.alsoSelecting(hpa, input.pods);
    }
    let plan = planAutoscaler(input);
    const key = `${namespace}/${hpa.metadata.name}`;
    const remember = (h: History) => ({
      key,
      uid: hpa.metadata.uid,
      evaluatedAtMs: now,
      ...('error' in target.scale ? {} : { selector: target.scale.selector }),
      history: h,
    });
    // The evaluation is claimed with its memory, in one conditional write, before it acts: of two
    // reconciles at once (a duplicated message) one scales and the other stands aside.
    if (!(await this.parts.memory.putUnlessRecent(key, remember(plan.history), now, DUPLICATE_WITHIN_MS))) return false;
    if (plan.rescale && target.type) {
      try {
        await this.deps.service.patch(target.type, namespace, ref.name ?? '', 'merge', {
          spec: { replicas: plan.rescale.replicas },
        });
      } catch (e) {
        if (!(e instanceof StatusError)) throw e;
        plan = rescaleFailed(plan, input, e.message);
        await this.parts.memory.put(key, remember(plan.history), now);
      }
    }
    for (const e of plan.events) this.deps.events.record(hpa, e.type, e.reason, e.message);
    const status = JSON.parse(JSON.stringify(plan.status)) as Record<string, unknown>;
    if (!jsonEqual(status, hpa.status ?? {})) {
      try {
        await this.deps.store.update({ ...hpa, status }, hpa);
      } catch (e) {
        // Changed or deleted meanwhile: the next evaluation writes from the new state.
        if (!(e instanceof ConflictError || e instanceof NotFoundError)) throw e;
      }
    }
    return true;
  }

  /** The scale subresource of what the HPA points at, as the API serves it, or the error a GET of it would give. */
  private async target(
    namespace: string,
    ref: { apiVersion?: string; kind?: string; name?: string },
  ): Promise<{ type?: ResourceType; scale: AutoscalerInput['scale'] }> {
    const kind = ref.kind ?? '';
    const type = ref.apiVersion ? typeForKind(ref.apiVersion, kind) : typeByKindName(kind);
    const group = (ref.apiVersion ?? '').includes('/') ? (ref.apiVersion ?? '').split('/')[0] : '';
    if (!type) return { scale: { error: `no matches for kind "${kind}" in group "${group}"` } };
    if (!type.subresources.some((s) => s.name === 'scale'))
      return {
        scale: {
          error: `the server could not find the requested resource (get ${type.plural}.${type.group} ${ref.name ?? ''})`,
        },
      };
    const o = await this.deps.store.get({ kind: type.kind, namespace, name: ref.name ?? '' });
    if (!o)
      return {
        scale: { error: new NotFoundError({ resource: type.plural, group: type.group, name: ref.name ?? '' }).message },
      };
    const scale = scaleOf(o);
    return { type, scale: { replicas: scale.spec.replicas, selector: scale.status.selector } };
  }

  /**
   * The other HPAs of the namespace whose targets (as their last evaluation saw them) select any of
   * these pods, with this one, or undefined when none does (Kubernetes' hpaSelectors check).
   */
  private async alsoSelecting(hpa: StoredObject, pods: KubeObject[]): Promise<string[] | undefined> {
    const namespace = hpa.metadata.namespace ?? '';
    const others = (await listAll(this.deps.store, { kind: 'HorizontalPodAutoscaler', namespace })).filter(
      (o) => o.metadata.uid !== hpa.metadata.uid && !o.metadata.deletionTimestamp,
    );
    if (!others.length || !pods.length) return undefined;
    const uids = new Set(others.map((o) => o.metadata.uid));
    const remembered = await this.parts.memory.get(others.map((o) => `${namespace}/${o.metadata.name}`));
    const selecting = remembered.filter((m) => {
      if (!uids.has(m.uid) || !m.selector) return false;
      const selector = parseLabelSelector(m.selector);
      return pods.some((p) => matchesLabels(selector, p.metadata.labels));
    });
    if (!selecting.length) return undefined;
    return [`${namespace}/${hpa.metadata.name}`, ...selecting.map((m) => m.key)].sort();
  }

  /** The pods' latest usage, read from the samples of the nodes they run on (fresh ones, and only a node's own pods). */
  private async samples(pods: KubeObject[], now: number): Promise<Map<string, PodSample>> {
    const byUid = new Map(pods.map((p) => [p.metadata.uid ?? '', p]));
    const nodes = [...new Set(pods.flatMap((p) => (typeof p.spec?.nodeName === 'string' ? [p.spec.nodeName] : [])))];
    const out = new Map<string, PodSample>();
    for (const s of await this.parts.metrics.get(nodes)) {
      if (now - s.atMs > FRESH_FOR_MS) continue;
      for (const p of s.pods) {
        const pod = byUid.get(p.uid);
        if (pod && pod.spec?.nodeName === s.nodeName)
          out.set(pod.metadata.name ?? '', {
            timestampMs: s.atMs,
            windowMs: s.windowSeconds * 1000,
            containers: p.containers,
          });
      }
    }
    return out;
  }
}
