import { admitServiceAccounts, DEFAULT_SERVICE_ACCOUNT, ROOT_CA_CONFIG_MAP } from '../model/service-accounts.js';
import { prepareCreate, prepareUpdate } from './admission.js';
import {
  BadRequestError,
  cause,
  InvalidError,
  RequestEntityTooLargeError,
  StatusError,
  TransactionError,
  type Status,
} from '../model/errors.js';
import { isPlainObject } from '../model/json.js';
import { storageTypeOf, typeForKind, type ResourceType } from '../model/kinds.js';
import type { ObjectService, ServiceDeps } from './object-service.js';
import { recordKey } from './service-allocation.js';
import type { KubeObject, StoredObject } from '../model/types.js';
import { MAX_TRANSACT_WRITES, type TransactWrite } from '../store/store.js';

/**
 * Applies a multi-document manifest (what `kubectl apply -f file.yaml` sends one by one): each
 * object is created, or replaced if it exists (status and server-owned fields are kept). With
 * `atomic`, the whole file is one DynamoDB transaction: every object lands or none does.
 */

export type ApplyAction = 'created' | 'configured' | 'unchanged' | 'failed' | 'skipped';

export interface ApplyItemResult {
  index: number;
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  action: ApplyAction;
  code: number;
  object?: StoredObject;
  status?: Status;
}

export interface ApplyResult {
  kind: 'ApplyResult';
  apiVersion: 'kumo.dev/v1';
  atomic: boolean;
  results: ApplyItemResult[];
}

/** One store transaction: DynamoDB's 100 items, two per write (the object and its change record). */
export const ATOMIC_APPLY_LIMIT = MAX_TRANSACT_WRITES + 1;

interface Doc {
  index: number;
  type: ResourceType;
  body: KubeObject;
  namespace: string;
  name?: string;
}

const describe = (d: Partial<Doc> & { index: number }, raw?: unknown) => {
  const r = isPlainObject(raw) ? raw : {};
  const meta = isPlainObject(r.metadata) ? r.metadata : {};
  return {
    index: d.index,
    apiVersion: typeof r.apiVersion === 'string' ? r.apiVersion : undefined,
    kind: typeof r.kind === 'string' ? r.kind : undefined,
    namespace: d.namespace || undefined,
    name: typeof meta.name === 'string' ? meta.name : undefined,
  };
};

const failed = (base: ReturnType<typeof describe>, e: StatusError): ApplyItemResult => ({
  ...base,
  action: 'failed',
  code: e.code,
  status: e.toStatus(),
});

export class BulkApplier {
  constructor(
    private readonly service: ObjectService,
    private readonly deps: ServiceDeps,
  ) {}

  /**
   * A Service's cluster IP and node ports, picked now and written in the apply's own transaction (a
   * pick another writer took meanwhile rolls the apply back, as any conflict does).
   */
  private withAllocations(
    prev: StoredObject | undefined,
    next: KubeObject,
    into: TransactWrite[],
    taken: Set<string>,
  ): KubeObject {
    if (next.kind !== 'Service') return next;
    // Picks avoid what earlier Services of this apply took; two asking for one address is the second's error.
    const plan = this.service.allocator.plan(prev, next, taken);
    for (const record of plan.creates) {
      const key = recordKey(record);
      const asked = plan.requested.get(key);
      if (taken.has(key) && asked) throw new InvalidError('Service', '', next.metadata.name, [asked]);
      taken.add(key);
    }
    // DynamoDB takes one write per item in a transaction: an address freed and taken in one apply is two.
    for (const key of plan.releases) {
      const id = `${key.kind}/${key.name}`;
      if (taken.has(id))
        throw new InvalidError('Service', '', next.metadata.name, [
          cause.invalid(
            'spec',
            key.name,
            'this address or port is released and taken again in one atomic apply: apply the two separately',
          ),
        ]);
      taken.add(id);
    }
    into.push(
      ...plan.creates.map((object): TransactWrite => ({ op: 'create', object })),
      ...plan.releases.map((key): TransactWrite => ({ op: 'delete', key })),
    );
    return plan.service ?? next;
  }

  async apply(documents: unknown[], opts: { atomic: boolean; namespace?: string }): Promise<ApplyResult> {
    if (documents.length === 0) throw new BadRequestError('the manifest holds no objects');
    const parsed = documents.map((raw, index) => this.parse(raw, index, opts.namespace));
    const results = opts.atomic
      ? await this.applyAtomically(parsed, documents)
      : await this.applyEach(parsed, documents);
    return { kind: 'ApplyResult', apiVersion: 'kumo.dev/v1', atomic: opts.atomic, results };
  }

  private parse(raw: unknown, index: number, defaultNamespace: string | undefined): Doc | StatusError {
    if (!isPlainObject(raw)) return new BadRequestError(`document ${index + 1} is not an object`);
    const apiVersion = typeof raw.apiVersion === 'string' ? raw.apiVersion : '';
    const kind = typeof raw.kind === 'string' ? raw.kind : '';
    if (!apiVersion || !kind) return new BadRequestError(`document ${index + 1}: apiVersion and kind are required`);
    const served = typeForKind(apiVersion, kind);
    if (!served)
      return new StatusError(404, 'NotFound', `no matches for kind "${kind}" in version "${apiVersion}"`, { kind });
    // An older version is stored as its storage version.
    const type = storageTypeOf(served);
    const body = served.conversion ? served.conversion.toStored(raw as KubeObject) : (raw as KubeObject);
    const meta = isPlainObject(body.metadata) ? body.metadata : {};
    const namespace = type.namespaced
      ? (typeof meta.namespace === 'string' && meta.namespace) || defaultNamespace || 'default'
      : '';
    return {
      index,
      type,
      body,
      namespace,
      name: typeof meta.name === 'string' ? meta.name : undefined,
    };
  }

  private async applyEach(docs: (Doc | StatusError)[], raws: unknown[]): Promise<ApplyItemResult[]> {
    const out: ApplyItemResult[] = [];
    for (const [index, d] of docs.entries()) {
      const base = describe(d instanceof StatusError ? { index } : d, raws[index]);
      if (d instanceof StatusError) {
        out.push(failed(base, d));
        continue;
      }
      try {
        out.push({ ...base, ...(await this.applyOne(d)) });
      } catch (e) {
        if (!(e instanceof StatusError)) throw e;
        out.push(failed(base, e));
      }
    }
    return out;
  }

  private async applyOne(d: Doc): Promise<Pick<ApplyItemResult, 'action' | 'code' | 'object'>> {
    const ns = d.type.namespaced ? d.namespace : undefined;
    const body = { ...d.body, metadata: { ...d.body.metadata, ...(ns ? { namespace: ns } : {}) } };
    if (d.name) {
      const current = await this.deps.store.get({ kind: d.type.kind, namespace: d.namespace, name: d.name });
      if (current) {
        const { resourceVersion: _ignored, ...meta } = body.metadata;
        const object = await this.service.replace(d.type, d.namespace, d.name, { ...body, metadata: meta });
        const unchanged = object.metadata.resourceVersion === current.metadata.resourceVersion;
        return { action: unchanged ? 'unchanged' : 'configured', code: 200, object };
      }
    }
    return { action: 'created', code: 201, object: await this.service.create(d.type, ns, body) };
  }

  private async applyAtomically(docs: (Doc | StatusError)[], raws: unknown[]): Promise<ApplyItemResult[]> {
    if (docs.length > ATOMIC_APPLY_LIMIT)
      throw new RequestEntityTooLargeError(
        `an atomic apply takes at most ${ATOMIC_APPLY_LIMIT} objects; this manifest has ${docs.length}`,
      );
    const results: ApplyItemResult[] = [];
    const writes: { write: TransactWrite; result: ApplyItemResult }[] = [];
    const seen = new Set<string>();
    // Namespaces this same file creates count as existing for the objects after them.
    const createdNamespaces = new Set<string>();
    const allocations: TransactWrite[] = [];
    const taken = new Set<string>();
    // The ServiceAccounts this manifest declares count for its pods (they land in the same transaction).
    const accounts = docs.flatMap((d) =>
      d instanceof StatusError || d.type.kind !== 'ServiceAccount' || !d.name
        ? []
        : [{ ...d.body, metadata: { ...d.body.metadata, name: d.name, namespace: d.namespace } }],
    );
    /** What comes with each new Namespace: its `default` ServiceAccount and `kube-root-ca.crt`. */
    const newAccounts: KubeObject[] = [];
    for (const [index, d] of docs.entries()) {
      const base = describe(d instanceof StatusError ? { index } : d, raws[index]);
      try {
        if (d instanceof StatusError) throw d;
        const result: ApplyItemResult = { ...base, action: 'unchanged', code: 200 };
        const key = `${d.type.kind}/${d.namespace}/${d.name ?? ''}`;
        if (d.name && seen.has(key))
          throw new BadRequestError(`${d.type.kind} "${d.name}" appears more than once in the manifest`);
        seen.add(key);
        const current = d.name
          ? await this.deps.store.get({ kind: d.type.kind, namespace: d.namespace, name: d.name })
          : undefined;
        const ns = d.type.namespaced ? d.namespace : undefined;
        const body = { ...d.body, metadata: { ...d.body.metadata, ...(ns ? { namespace: ns } : {}) } };
        if (current) {
          const { resourceVersion: _ignored, ...meta } = body.metadata;
          const next = prepareUpdate(d.type, current, { ...body, metadata: meta }, 'main');
          if (next) {
            result.action = 'configured';
            writes.push({
              write: {
                op: 'update',
                object: this.withAllocations(current, next, allocations, taken),
                previous: current,
              },
              result,
            });
          } else {
            result.object = current;
          }
        } else {
          const next = prepareCreate(d.type, body, {
            now: this.deps.clock.now(),
            uid: this.deps.newUid(),
            namespace: ns,
            nameSuffix: this.deps.nameSuffix(),
          });
          if (ns && !createdNamespaces.has(ns)) await this.service.assertNamespaceOpen(ns, d.type, next.metadata.name);
          if (d.type.kind === 'Namespace') {
            const name = next.metadata.name ?? '';
            createdNamespaces.add(name);
            // Its `default` ServiceAccount comes with it, unless the manifest declares one.
            if (!accounts.some((a) => a.metadata.namespace === name && a.metadata.name === DEFAULT_SERVICE_ACCOUNT))
              newAccounts.push(this.service.newDefaultServiceAccount(name));
            // And its `kube-root-ca.crt`, so the manifest's pods find it (unless the manifest declares one).
            const ca = this.service.newRootCAConfigMap(name);
            if (
              ca &&
              !docs.some(
                (x) =>
                  !(x instanceof StatusError) &&
                  x.type.kind === 'ConfigMap' &&
                  x.namespace === name &&
                  x.name === ROOT_CA_CONFIG_MAP,
              )
            )
              newAccounts.push(ca);
          }
          if (d.type.kind === 'Pod')
            await admitServiceAccounts(
              [next],
              this.service.serviceAccounts(ns ?? '', [...accounts, ...newAccounts]),
              this.deps.nameSuffix,
            );
          result.action = 'created';
          result.code = 201;
          writes.push({
            write: { op: 'create', object: this.withAllocations(undefined, next, allocations, taken) },
            result,
          });
        }
        results.push(result);
      } catch (e) {
        if (!(e instanceof StatusError)) throw e;
        results.push(failed(base, e));
      }
    }
    if (results.some((r) => r.action === 'failed')) return rolledBack(results);
    if (writes.length === 0) return results;
    const total = writes.length + allocations.length + newAccounts.length;
    if (total > ATOMIC_APPLY_LIMIT)
      throw new RequestEntityTooLargeError(
        `an atomic apply takes at most ${ATOMIC_APPLY_LIMIT} writes; this manifest needs ${total} (its Services' addresses and node ports, and its Namespaces' default ServiceAccounts and root CA ConfigMaps count)`,
      );
    try {
      // The Services' addresses and ports land in the same transaction, after the objects (whose results come first).
      const stored = await this.deps.store.transact([
        ...writes.map((w) => w.write),
        ...allocations,
        ...newAccounts.map((object): TransactWrite => ({ op: 'create', object })),
      ]);
      stored.forEach((o, i) => {
        const w = writes[i];
        if (w) w.result.object = o;
      });
      return results;
    } catch (e) {
      if (!(e instanceof TransactionError)) throw e;
      e.failures.forEach((f, i) => {
        const w = writes[i];
        if (w && f) Object.assign(w.result, { action: 'failed', code: f.code, status: f.toStatus() });
      });
      if (!results.some((r) => r.action === 'failed'))
        results.forEach((r) => Object.assign(r, { action: 'failed', code: e.code, status: e.toStatus() }));
      return rolledBack(results);
    }
  }
}

/** In an atomic apply nothing was written when anything failed: the others are reported as skipped. */
function rolledBack(results: ApplyItemResult[]): ApplyItemResult[] {
  return results.map((r) => (r.action === 'failed' ? r : { ...r, action: 'skipped', code: 0, object: undefined }));
}

export function applyStatusCode(result: ApplyResult): number {
  const failure = result.results.find((r) => r.action === 'failed');
  if (!failure) return 200;
  return result.atomic ? failure.code : 207;
}
