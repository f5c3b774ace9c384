import { coerceBody, prepareCreate, prepareUpdate } from './admission.js';
import {
  AlreadyExistsError,
  BadRequestError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  StatusError,
  TransactionError,
  type Status,
} from '../model/errors.js';
import { applyConflicts, conflictError, recordApply, type ManagedFieldsEntry } from './managed-fields.js';
import { isPlainObject, jsonEqual } from '../model/json.js';
import { isFinished } from '../model/pod-state.js';
import { apiVersionOf, kindNamed, RESOURCE_TYPES, type ResourceType } from '../model/kinds.js';
import { applyPatch } from './patch.js';
import type {
  DeleteOptions,
  DeleteResult,
  ListOptions,
  ObjectApi,
  ObjectList,
  PatchType,
  UpdateMode,
  WatchEvent,
  WatchOptions,
} from '../model/object-api.js';
import {
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  supportedFieldsOf,
} from '../model/selectors.js';
import type { KubeObject, ObjectKey, StoredObject } from '../model/types.js';
import type { Clock } from '../util/clock.js';
import { rfc3339 } from '../util/clock.js';
import type { ListCursor, ObjectStore } from '../store/store.js';
import { chunksBy } from '../util/chunks.js';
import { retrying, sleep } from '../util/retry.js';
import { inParallel } from '../util/in-parallel.js';
import { dns1123Subdomain } from '../model/names.js';
import { finiteWatch } from './watch.js';
import { evictPod } from './eviction.js';
import { DryRunStore } from './dry-run-store.js';
import { ServiceAllocator } from './service-allocation.js';
import { DEFAULT_SERVICE_NETWORK, type ServiceNetwork } from '../model/service-network.js';
import {
  admitServiceAccounts,
  DEFAULT_SERVICE_ACCOUNT,
  defaultServiceAccount,
  ROOT_CA_CONFIG_MAP,
  rootCAConfigMap,
  type ServiceAccountLookup,
} from '../model/service-accounts.js';

/** A check of the final object before it is written, for the caller's identity (RBAC's escalation check). */
export type WriteGuard = (type: ResourceType, next: KubeObject, previous?: KubeObject) => Promise<void>;

export interface ServiceDeps {
  store: ObjectStore;
  /** Runs on every create and update this service writes, with the object as it would be stored. */
  writeGuard?: WriteGuard;
  clock: Clock;
  newUid: () => string;
  /** Five lowercase alphanumerics for generateName. */
  nameSuffix: () => string;
  /** Waits between a watch's polls of the store. */
  sleep?: (ms: number) => Promise<void>;
  /** Where Services get their addresses and node ports (DEFAULT_SERVICE_NETWORK without it). */
  network?: ServiceNetwork;
  /** Random picks of addresses and ports (tests pin it). */
  random?: () => number;
  /** The CA bundle a new namespace gets as `kube-root-ca.crt` (the namespace controller keeps it after); read when first needed. */
  rootCA?: () => string;
}

/** Namespaces Kubernetes refuses to delete. */
const PROTECTED_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);
/** A page is read from the store in chunks of this size when the client sets no limit. */
const STORE_PAGE = 500;
/** How long an open namespace is trusted without a read. A create racing a namespace delete within this
 * window can still land; the namespace controller removes such leftovers, as in Kubernetes. */
const NAMESPACE_CACHE_MS = 2000;
/** Objects per createAll transaction: DynamoDB allows 100 items and 4 MB; 25 pods and their change records stay far below both. */
const CREATE_BATCH = 25;
/** ... and at most this many bytes of objects (each is written twice, with its record, in at most 4 MB; templates can be large). */
const CREATE_BATCH_BYTES = 1_500_000;

/** Splits objects into createAll transactions by count and by size. */
const transactionBatches = (objects: KubeObject[]) =>
  chunksBy(objects, CREATE_BATCH, CREATE_BATCH_BYTES, (o) => JSON.stringify(o).length);
/** createAll transactions in flight at once. */
const CREATE_LANES = 4;
/** Unconditional writes (no resourceVersion from the client) retry a lost race this many times. */
const RETRIES = 5;
/** A deletecollection's deletes in flight at once. */
const PARALLEL_DELETES = 16;

const refOf = (t: ResourceType, name?: string) => ({ resource: t.plural, group: t.group, name });
const SERVICE_ACCOUNT = kindNamed('ServiceAccount');
const CONFIG_MAP = kindNamed('ConfigMap');

/**
 * A list's continue token: where the next page starts, and the resourceVersion of the first page,
 * which every page answers (as the kube-apiserver's pages share the first one's revision): a watch
 * from it then sees whatever changed in pages already read.
 */
export function encodeContinue(c: ListCursor, resourceVersion: string): string {
  return Buffer.from(JSON.stringify([c.namespace, c.name, resourceVersion]), 'utf8').toString('base64url');
}

export function decodeContinue(token: string): { after: ListCursor; resourceVersion?: string } {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && (v.length === 2 || v.length === 3) && v.every((x) => typeof x === 'string')) {
      const [namespace, name, resourceVersion] = v as string[];
      return {
        after: { namespace: namespace ?? '', name: name ?? '' },
        ...(resourceVersion ? { resourceVersion } : {}),
      };
    }
  } catch {
    // fall through to the error below
  }
  throw new BadRequestError('continue key is not valid: it must be the `continue` value of an earlier list response');
}

/**
 * The API's verbs over the store, with Kubernetes semantics: server-owned fields, defaulting,
 * validation, optimistic concurrency, graceful and finalizer-blocked deletion.
 */
export class ObjectService implements ObjectApi {
  /** Namespaces recently found open, until when (ms). */
  private readonly openNamespaces = new Map<string, number>();
  /**
   * ServiceAccounts recently found, until when: a burst of pod creates reads each once, as the
   * kube-apiserver's admission reads them from an informer cache (a deleted one may still admit a pod
   * for up to 2 s; misses are never cached).
   */
  private readonly knownAccounts = new Map<string, { account: KubeObject; until: number }>();
  /** Services' cluster IPs and node ports: written with the Service, in its transaction. */
  readonly allocator: ServiceAllocator;

  constructor(private readonly deps: ServiceDeps) {
    this.allocator = new ServiceAllocator({ ...deps, network: deps.network ?? DEFAULT_SERVICE_NETWORK });
  }

  /** The same verbs as a dry run (`dryRun=All`): every check and default, nothing written (dry-run-store.ts). */
  dryRun(): ObjectService {
    return new ObjectService({ ...this.deps, store: new DryRunStore(this.deps.store) });
  }

  /**
   * The same verbs, each write first checked by `guard` (a request's caller's escalation check).
   * Its caches start empty: made per request, only for the kinds whose writes need it.
   */
  guardedBy(guard: WriteGuard): ObjectService {
    return new ObjectService({ ...this.deps, writeGuard: guard });
  }

  async get(type: ResourceType, namespace: string, name: string): Promise<StoredObject> {
    // No object has an empty name (DynamoDB would refuse the empty key with a 500).
    if (name === '') throw new NotFoundError(refOf(type, name));
    const o = await this.deps.store.get(this.key(type, namespace, name));
    if (!o) throw new NotFoundError(refOf(type, name));
    return o;
  }

  async create(type: ResourceType, namespace: string | undefined, body: unknown): Promise<StoredObject> {
    const o = prepareCreate(type, body, {
      now: this.deps.clock.now(),
      uid: this.deps.newUid(),
      namespace,
      nameSuffix: this.deps.nameSuffix(),
    });
    if (type.namespaced) await this.assertNamespaceOpen(o.metadata.namespace ?? '', type, o.metadata.name);
    return this.writeNew(o);
  }

  /**
   * Creates many objects of one kind in one namespace (a controller's pods), in transactions of
   * CREATE_BATCH: far fewer requests than one create each. A name already taken is not an error here:
   * it is reported back, and the transaction is retried without it (every other create still lands).
   */
  async createAll(
    type: ResourceType,
    namespace: string,
    bodies: unknown[],
  ): Promise<{ created: StoredObject[]; taken: string[] }> {
    const now = this.deps.clock.now();
    const objects = bodies.map((body) =>
      prepareCreate(type, body, { now, uid: this.deps.newUid(), namespace, nameSuffix: this.deps.nameSuffix() }),
    );
    if (objects.length && type.namespaced) await this.assertNamespaceOpen(namespace, type, objects[0]?.metadata.name);
    if (type.kind === 'Pod') await admitServiceAccounts(objects, this.serviceAccounts(namespace), this.deps.nameSuffix);
    const created: StoredObject[] = [];
    const taken: string[] = [];
    const batches = transactionBatches(objects);
    let nextBatch = 0;
    const lane = async () => {
      while (nextBatch < batches.length) await createBatch(batches[nextBatch++] as KubeObject[]);
    };
    const createBatch = async (first: KubeObject[]) => {
      let batch = first;
      for (let attempt = 0; batch.length; attempt++) {
        try {
          created.push(...(await this.deps.store.transact(batch.map((object) => ({ op: 'create' as const, object })))));
          break;
        } catch (e) {
          if (!(e instanceof TransactionError) || attempt >= RETRIES) throw e;
          const lost = new Set(batch.filter((_, j) => e.failures[j] instanceof AlreadyExistsError));
          taken.push(...[...lost].map((o) => o.metadata.name ?? ''));
          // Only taken names are expected; any other refusal (a conflicting concurrent transaction) is retried as is.
          if (e.failures.some((f, j) => f && !lost.has(batch[j] as KubeObject))) throw e;
          if (lost.size === 0) await this.sleep()(10 * 2 ** attempt);
          batch = batch.filter((o) => !lost.has(o));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CREATE_LANES, batches.length) }, lane));
    return { created, taken };
  }

  async list(type: ResourceType, namespace: string | undefined, opts: ListOptions = {}): Promise<ObjectList> {
    const labels = parseLabelSelector(opts.labelSelector);
    const fields = parseFieldSelector(opts.fieldSelector, supportedFieldsOf(type.kind));
    if (opts.limit !== undefined && (!Number.isInteger(opts.limit) || opts.limit < 0))
      throw new BadRequestError('limit must be a non-negative integer');
    const limit = opts.limit || Infinity;
    // Hot question: the pods bound to one node come from the sparse byNode index, not a namespace scan.
    const nodeName =
      type.kind === 'Pod'
        ? fields.find((f) => f.field === 'spec.nodeName' && f.op === '=' && f.value)?.value
        : undefined;
    const continued = opts.continue ? decodeContinue(opts.continue) : undefined;
    let after = continued?.after;
    // Taken before the first read: a write that lands in a part already read is newer than this.
    const resourceVersion = continued?.resourceVersion ?? this.deps.store.currentResourceVersion();
    const items: StoredObject[] = [];
    for (;;) {
      const page = await this.deps.store.list({
        kind: type.kind,
        namespace: type.namespaced ? namespace : undefined,
        after,
        limit: Math.min(STORE_PAGE, Math.max(limit - items.length, 1)),
        nodeName,
      });
      for (const [i, o] of page.items.entries()) {
        if (!matchesLabels(labels, o.metadata.labels) || !matchesFields(fields, o)) continue;
        items.push(o);
        if (items.length >= limit) {
          const exhausted = !page.more && i === page.items.length - 1;
          return this.listOf(
            type,
            items,
            exhausted ? undefined : { namespace: o.metadata.namespace ?? '', name: o.metadata.name },
            resourceVersion,
          );
        }
      }
      const last = page.items.at(-1);
      if (!page.more || !last) return this.listOf(type, items, undefined, resourceVersion);
      after = { namespace: last.metadata.namespace ?? '', name: last.metadata.name };
    }
  }

  /** A finite watch (long poll) of a collection or one object over the change log: see watch.ts. */
  async watch(type: ResourceType, namespace: string | undefined, opts: WatchOptions): Promise<WatchEvent[]> {
    return finiteWatch(
      {
        list: (listOpts) => this.list(type, namespace, listOpts),
        changes: (after, upTo, limit) => this.deps.store.changes(type.kind, namespace, after, upTo, limit),
        clock: this.deps.clock,
        sleep: this.sleep(),
      },
      type,
      opts,
    );
  }

  /** PUT: replace the object; a `resourceVersion` in the body is a precondition. */
  async replace(
    type: ResourceType,
    namespace: string,
    name: string,
    body: unknown,
    mode: UpdateMode = 'main',
  ): Promise<StoredObject> {
    const precondition =
      isPlainObject(body) && isPlainObject(body.metadata)
        ? (body.metadata.resourceVersion as string | undefined)
        : undefined;
    return this.readModifyWrite(type, namespace, name, precondition, (current) =>
      prepareUpdate(type, current, body, mode),
    );
  }

  async patch(
    type: ResourceType,
    namespace: string,
    name: string,
    patchType: PatchType,
    patch: unknown,
    mode: UpdateMode = 'main',
  ): Promise<StoredObject> {
    return this.readModifyWrite(type, namespace, name, undefined, (current) => {
      const patched = applyPatch(patchType, current, patch);
      // A patch that sets metadata.resourceVersion makes it a precondition, as in Kubernetes.
      const rv =
        isPlainObject(patched) && isPlainObject(patched.metadata) ? patched.metadata.resourceVersion : undefined;
      if (rv !== undefined && rv !== current.metadata.resourceVersion) throw new ConflictError(refOf(type, name));
      return prepareUpdate(type, current, patched, mode);
    });
  }

  /**
   * Server-side apply (`kubectl apply --server-side`): creates the object if it is missing, otherwise
   * merges the applied configuration into it. Fields another manager applied may not be changed
   * unless `force`; ownership is recorded in metadata.managedFields.
   */
  async apply(
    type: ResourceType,
    namespace: string,
    name: string,
    body: unknown,
    opts: { fieldManager?: string; force?: boolean },
  ): Promise<{ object: StoredObject; created: boolean }> {
    const manager = opts.fieldManager;
    if (!manager) throw new BadRequestError('fieldManager is required for apply requests');
    const applied = coerceBody(type, body, type.namespaced ? namespace : undefined, name);
    const time = rfc3339(this.deps.clock.now());
    const current = await this.deps.store.get(this.key(type, namespace, name));
    if (!current) {
      const created = prepareCreate(type, applied, {
        now: this.deps.clock.now(),
        uid: this.deps.newUid(),
        namespace: type.namespaced ? namespace : undefined,
        nameSuffix: this.deps.nameSuffix(),
      });
      created.metadata.managedFields = recordApply(undefined, manager, applied, apiVersionOf(type), time);
      if (type.namespaced) await this.assertNamespaceOpen(namespace, type, name);
      try {
        return { object: await this.writeNew(created), created: true };
      } catch (e) {
        if (!(e instanceof AlreadyExistsError)) throw e; // created meanwhile: apply onto it below
      }
    }
    const object = await this.readModifyWrite(type, namespace, name, undefined, (live) => {
      if (!opts.force) {
        const conflicts = applyConflicts(live, applied, manager);
        if (conflicts.length) throw conflictError(type.plural, name, conflicts);
      }
      const merged = applyPatch('apply', live, {
        ...applied,
        metadata: { ...applied.metadata, resourceVersion: undefined },
      }) as KubeObject;
      merged.metadata.managedFields = recordApply(
        live.metadata.managedFields as ManagedFieldsEntry[] | undefined,
        manager,
        applied,
        apiVersionOf(type),
        time,
      );
      // A new owner is worth a write even when no value changes; a refreshed timestamp alone is not.
      const untimed = (m: unknown) =>
        ((m as ManagedFieldsEntry[] | undefined) ?? []).map(({ time: _t, ...rest }) => rest);
      const ownershipChanged = !jsonEqual(untimed(live.metadata.managedFields), untimed(merged.metadata.managedFields));
      const next =
        prepareUpdate(type, live, merged, 'main') ??
        (ownershipChanged ? structuredClone(live as KubeObject) : undefined);
      if (next) next.metadata.managedFields = merged.metadata.managedFields;
      return next;
    });
    return { object, created: false };
  }

  /**
   * DELETE of a collection (deletecollection), as Kubernetes' Store.DeleteCollection: the list the
   * options select (one page with `limit`, resumed with `continue`), each object deleted as its own
   * DELETE would be (finalizers, grace periods and propagation honoured); the answer is that list, its
   * items as they were listed, less those someone else deleted meanwhile.
   */
  async deleteCollection(
    type: ResourceType,
    namespace: string | undefined,
    listOpts: ListOptions,
    opts: DeleteOptions = {},
  ): Promise<ObjectList> {
    const list = await this.list(type, namespace, listOpts);
    const gone = new Set<StoredObject>();
    await inParallel(list.items, PARALLEL_DELETES, async (o) => {
      try {
        await this.delete(type, o.metadata.namespace ?? '', o.metadata.name, opts);
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
        gone.add(o); // someone else's delete
      }
    });
    return { ...list, items: list.items.filter((o) => !gone.has(o)) };
  }

  /** A pod's eviction, within its PodDisruptionBudget (eviction.ts): undefined when deleted, else the Status to answer. */
  evict(namespace: string, name: string, opts: DeleteOptions = {}): Promise<Status | undefined> {
    return evictPod({ service: this, store: this.deps.store, clock: this.deps.clock }, namespace, name, opts);
  }

  async delete(type: ResourceType, namespace: string, name: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    if (type.kind === 'ServiceAccount') this.knownAccounts.delete(`${namespace}/${name}`);
    if (type.kind === 'Namespace' && PROTECTED_NAMESPACES.has(name))
      throw new ForbiddenError(refOf(type, name), 'this namespace may not be deleted');
    const pre = opts.preconditions;
    // Without a client resourceVersion the delete is unconditional from the client's view: a conflict of
    // its own write means the object changed meanwhile, so read it again and redo. A failed precondition
    // is the answer at once.
    let writing = false;
    return retrying(
      async () => {
        writing = false;
        const current = await this.get(type, namespace, name);
        if (pre?.uid !== undefined && pre.uid !== current.metadata.uid)
          throw new ConflictError(
            refOf(type, name),
            `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`,
          );
        if (pre?.resourceVersion !== undefined && pre.resourceVersion !== current.metadata.resourceVersion)
          throw new ConflictError(
            refOf(type, name),
            `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
          );
        // Orphan and Foreground deletion are carried out by the garbage collector, which these finalizers call in.
        writing = true;
        const gcFinalizer =
          opts.propagationPolicy === 'Orphan'
            ? 'orphan'
            : opts.propagationPolicy === 'Foreground'
              ? 'foregroundDeletion'
              : undefined;
        if (gcFinalizer && !(current.metadata.finalizers ?? []).includes(gcFinalizer))
          current.metadata.finalizers = [...(current.metadata.finalizers ?? []), gcFinalizer];
        const marked = await this.markForDeletion(type, current, opts);
        if (marked) return { deleted: false, object: marked };
        await this.remove(type, current);
        return { deleted: true, status: deletedStatus(type, current) };
      },
      {
        retryable: (e, attempt) =>
          writing && e instanceof ConflictError && pre?.resourceVersion === undefined && attempt < RETRIES,
      },
    );
  }

  /**
   * Objects that cannot vanish at once get a deletionTimestamp instead: those with finalizers,
   * pods running on a node (the agent stops them gracefully, then deletes), and namespaces that
   * still hold objects (they go Terminating). Returns the marked object, or undefined to delete now.
   */
  private async markForDeletion(
    type: ResourceType,
    current: StoredObject,
    opts: DeleteOptions,
  ): Promise<StoredObject | undefined> {
    const now = this.deps.clock.now();
    const grace = opts.gracePeriodSeconds ?? (current.spec?.terminationGracePeriodSeconds as number | undefined) ?? 30;
    const finalizers = current.metadata.finalizers ?? [];
    const boundRunningPod = type.kind === 'Pod' && !!current.spec?.nodeName && !isFinished(current) && grace > 0;
    const busyNamespace = type.kind === 'Namespace' && !(await this.namespaceEmpty(current.metadata.name));
    if (!finalizers.length && !boundRunningPod && !busyNamespace) return undefined;
    if (current.metadata.deletionTimestamp) return current; // already on its way out
    const next: KubeObject = structuredClone(current);
    next.metadata.deletionTimestamp = rfc3339(boundRunningPod ? new Date(now.getTime() + grace * 1000) : now);
    next.metadata.deletionGracePeriodSeconds = boundRunningPod ? grace : 0;
    next.metadata.generation = (current.metadata.generation ?? 1) + 1;
    if (type.kind === 'Namespace') {
      next.status = { ...current.status, phase: 'Terminating' };
      this.openNamespaces.delete(current.metadata.name);
    }
    return this.deps.store.update(next, current);
  }

  /** Nothing in it but its `default` ServiceAccount and `kube-root-ca.crt` (which go with it). */
  private async namespaceEmpty(namespace: string): Promise<boolean> {
    for (const t of RESOURCE_TYPES) {
      // Each kind once: an older version served as a view is stored as its storage version.
      if (!t.namespaced || t.conversion) continue;
      const page = await this.deps.store.list({ kind: t.kind, namespace, limit: 3 });
      const own = page.items.filter(
        (o) =>
          !(t.kind === 'ServiceAccount' && o.metadata.name === DEFAULT_SERVICE_ACCOUNT) &&
          !(t.kind === 'ConfigMap' && o.metadata.name === ROOT_CA_CONFIG_MAP),
      );
      if (own.length) return false;
    }
    return true;
  }

  private async readModifyWrite(
    type: ResourceType,
    namespace: string,
    name: string,
    precondition: string | undefined,
    modify: (current: StoredObject) => KubeObject | undefined,
  ): Promise<StoredObject> {
    // Without a client precondition the write is unconditional from the client's view: a conflict retries on fresh state.
    let writing = false;
    return retrying(
      async () => {
        writing = false;
        const current = await this.get(type, namespace, name);
        if (precondition !== undefined && precondition !== current.metadata.resourceVersion)
          throw new ConflictError(refOf(type, name));
        const next = modify(current);
        if (!next) return current;
        await this.deps.writeGuard?.(type, next, current);
        writing = true;
        // The last finalizer removed from an object that is being deleted completes the delete.
        if (
          next.metadata.deletionTimestamp &&
          !(next.metadata.finalizers ?? []).length &&
          !(type.kind === 'Pod' && next.spec?.nodeName) &&
          type.kind !== 'Namespace'
        ) {
          await this.remove(type, current);
          return { ...current, metadata: { ...current.metadata, finalizers: [] } };
        }
        if (type.kind === 'Service') return await this.allocator.update(current, next);
        return await this.deps.store.update(next, current);
      },
      // Only a conflict of this write: one `modify` raised (a patch's own precondition) is the answer.
      {
        retryable: (e, attempt) =>
          writing && e instanceof ConflictError && precondition === undefined && attempt < RETRIES,
      },
    );
  }

  /**
   * A Service is written with the address and ports it holds; a pod after ServiceAccount admission; a
   * Namespace gets its `default` ServiceAccount at once (Kubernetes' controller makes it a moment
   * later, and a pod created in between is refused: here none is).
   */
  private async writeNew(o: KubeObject): Promise<StoredObject> {
    if (this.deps.writeGuard) await this.deps.writeGuard(kindNamed(o.kind), o);
    if (o.kind === 'Service') return this.allocator.create(o);
    if (o.kind === 'Pod')
      await admitServiceAccounts([o], this.serviceAccounts(o.metadata.namespace ?? ''), this.deps.nameSuffix);
    const stored = await this.deps.store.create(o);
    // The namespace stands whether or not its account could be written now: the next pod admission or
    // namespace reconcile makes it, so a failure here must not fail a create that happened.
    if (o.kind === 'Namespace') {
      await this.ensureDefaultServiceAccount(o.metadata.name ?? '').catch(() => undefined);
      const ca = this.newRootCAConfigMap(o.metadata.name ?? '');
      if (ca) await this.deps.store.create(ca).catch(() => undefined);
    }
    return stored;
  }

  /**
   * The ServiceAccounts of a namespace for admitting pods, each read once; `pending` are created in the
   * same write (an atomic apply's). A missing `default` is made, as Kubernetes' service account
   * controller keeps one in every namespace (namespaces older than this, or its deletion).
   */
  serviceAccounts(namespace: string, pending: KubeObject[] = []): ServiceAccountLookup {
    const found = new Map<string, Promise<KubeObject | undefined>>();
    return (name) => {
      const own = pending.find((p) => p.metadata.namespace === namespace && p.metadata.name === name);
      if (own) return Promise.resolve(own);
      let hit = found.get(name);
      if (!hit) found.set(name, (hit = this.findServiceAccount(namespace, name)));
      return hit;
    };
  }

  private async findServiceAccount(namespace: string, name: string): Promise<KubeObject | undefined> {
    // A name no account can have (it may be any string here) is not looked up: it is not found.
    if (dns1123Subdomain(name).length) return undefined;
    const key = `${namespace}/${name}`;
    const now = this.deps.clock.now().getTime();
    const cached = this.knownAccounts.get(key);
    if (cached && cached.until > now) return cached.account;
    const sa =
      (await this.deps.store.get({ kind: 'ServiceAccount', namespace, name })) ??
      (name === DEFAULT_SERVICE_ACCOUNT ? await this.ensureDefaultServiceAccount(namespace) : undefined);
    if (sa) this.knownAccounts.set(key, { account: sa, until: now + NAMESPACE_CACHE_MS });
    return sa;
  }

  /** The namespace's `default` ServiceAccount, made if missing (a concurrent maker's counts). */
  async ensureDefaultServiceAccount(namespace: string): Promise<StoredObject | undefined> {
    const key = { kind: 'ServiceAccount', namespace, name: DEFAULT_SERVICE_ACCOUNT };
    try {
      return await this.deps.store.create(this.newDefaultServiceAccount(namespace));
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
      return this.deps.store.get(key);
    }
  }

  /**
   * A new namespace's `kube-root-ca.crt` as it is written (none without a configured CA), so its first
   * pods find it rather than wait for the root CA publisher.
   */
  newRootCAConfigMap(namespace: string): KubeObject | undefined {
    if (!this.deps.rootCA) return undefined;
    return prepareCreate(CONFIG_MAP, rootCAConfigMap(namespace, this.deps.rootCA()), {
      now: this.deps.clock.now(),
      uid: this.deps.newUid(),
      namespace,
      nameSuffix: this.deps.nameSuffix(),
    });
  }

  /** The `default` ServiceAccount as it is written, for a caller that writes it in its own transaction. */
  newDefaultServiceAccount(namespace: string): KubeObject {
    return prepareCreate(SERVICE_ACCOUNT, defaultServiceAccount(namespace), {
      now: this.deps.clock.now(),
      uid: this.deps.newUid(),
      namespace,
      nameSuffix: this.deps.nameSuffix(),
    });
  }

  /** ... and deleted with them, which frees them; an empty namespace takes its `default` ServiceAccount along. */
  private async remove(type: ResourceType, current: StoredObject): Promise<void> {
    if (type.kind === 'Service') return this.allocator.remove(current);
    const { namespace, name } = current.metadata;
    if (type.kind === 'Namespace') {
      // One transaction: no `default` account or root CA outlives its namespace (a later namespace of the name would inherit it).
      await this.deps.store.transact([
        { op: 'delete', key: this.key(type, '', name), expectedResourceVersion: current.metadata.resourceVersion },
        { op: 'delete', key: { kind: 'ServiceAccount', namespace: name, name: DEFAULT_SERVICE_ACCOUNT } },
        { op: 'delete', key: { kind: 'ConfigMap', namespace: name, name: ROOT_CA_CONFIG_MAP } },
      ]);
      return;
    }
    await this.deps.store.delete(this.key(type, namespace ?? '', name), current.metadata.resourceVersion);
  }

  /** The injected sleep (tests move a fake clock), or a timer. */
  private sleep(): (ms: number) => Promise<void> {
    return this.deps.sleep ?? sleep;
  }

  /** Namespaced objects may only be created in a namespace that exists and is not terminating. */
  async assertNamespaceOpen(namespace: string, type: ResourceType, name: string | undefined) {
    // Like kube-apiserver's namespace lifecycle admission, recently seen open namespaces are trusted
    // briefly instead of read on every create (half of a create's cost otherwise).
    const now = this.deps.clock.now().getTime();
    if ((this.openNamespaces.get(namespace) ?? 0) > now) return;
    const ns = await this.deps.store.get({ kind: 'Namespace', namespace: '', name: namespace });
    if (!ns) throw new NotFoundError({ resource: 'namespaces', group: '', name: namespace });
    if (ns.metadata.deletionTimestamp)
      throw new StatusError(
        403,
        'Forbidden',
        `${type.plural}${type.group ? '.' + type.group : ''} "${name ?? ''}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        {
          name,
          group: type.group,
          kind: type.plural,
          causes: [
            {
              reason: 'NamespaceTerminating',
              message: `namespace ${namespace} is being terminated`,
              field: 'metadata.namespace',
            },
          ],
        },
      );
    this.openNamespaces.set(namespace, now + NAMESPACE_CACHE_MS);
  }

  private listOf(
    type: ResourceType,
    items: StoredObject[],
    next: ListCursor | undefined,
    resourceVersion: string,
  ): ObjectList {
    return {
      apiVersion: apiVersionOf(type),
      kind: type.listKind,
      metadata: {
        resourceVersion,
        ...(next ? { continue: encodeContinue(next, resourceVersion) } : {}),
      },
      items,
    };
  }

  private key(type: ResourceType, namespace: string, name: string): ObjectKey {
    return { kind: type.kind, namespace: type.namespaced ? namespace : '', name };
  }
}

function deletedStatus(type: ResourceType, o: StoredObject): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    message: '',
    reason: '',
    details: { name: o.metadata.name, group: type.group, kind: type.plural, uid: o.metadata.uid },
    code: 200,
  };
}
