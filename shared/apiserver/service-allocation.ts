import { AlreadyExistsError, cause, InvalidError, TransactionError, type StatusCause } from '../model/errors.js';
import { serviceSpec } from '../model/typed.js';
import { isPlainObject } from '../model/json.js';
import type { KubeObject, ObjectKey, StoredObject } from '../model/types.js';
import { listAll } from '../store/list-all.js';
import type { ObjectStore, TransactWrite } from '../store/store.js';
import { rfc3339, type Clock } from '../util/clock.js';
import { sleep } from '../util/retry.js';
import { Ipv4Range, type ServiceNetwork } from '../model/service-network.js';

/**
 * Service addresses and node ports, allocated as Kubernetes' allocators do (pkg/registry/core/service
 * /ipallocator, portallocator): every address a Service holds is an IPAddress object
 * (networking.k8s.io/v1, named by the address, as Kubernetes' MultiCIDRServiceAllocator keeps them)
 * and every node port a ServiceNodePort record, created with the Service in one conditional
 * transaction and deleted with it. Two concurrent creates can never get one address: the second
 * transaction finds the name taken and picks again.
 */

/** Node port records: kumo's own, never served (Kubernetes keeps them in a bitmap in etcd). */
export const NODE_PORT_KIND = 'ServiceNodePort';
const IP_ADDRESS_KIND = 'IPAddress';

/** Kubernetes' needsClusterIP: every type but ExternalName, unless headless. */
export function needsClusterIP(svc: KubeObject): boolean {
  const spec = serviceSpec(svc);
  return spec.type !== 'ExternalName' && spec.clusterIP !== 'None';
}

function needsNodePorts(svc: KubeObject): boolean {
  const spec = serviceSpec(svc);
  return spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
}

const ipOf = (svc: KubeObject | undefined) => {
  if (!svc || !needsClusterIP(svc)) return undefined;
  const ip = serviceSpec(svc).clusterIP;
  return ip && ip !== 'None' ? ip : undefined;
};
const nodePortsOf = (svc: KubeObject | undefined) =>
  new Set(
    svc && needsNodePorts(svc)
      ? (serviceSpec(svc).ports ?? []).map((p) => p.nodePort).filter((p): p is number => typeof p === 'number' && p > 0)
      : [],
  );

/**
 * On update the allocated values stay unless the update changes them (Kubernetes' patchAllocatedValues):
 * a `kubectl replace` or an apply of a manifest without clusterIP or nodePort keeps what was given.
 */
export function keepAllocatedValues(next: KubeObject, prev: KubeObject): void {
  if (next.kind !== 'Service') return;
  const spec = serviceSpec(next);
  const prevSpec = serviceSpec(prev);
  const external = (s: typeof spec) => s.type === 'ExternalName';
  // The address (or None, for a headless Service) stays unless the update names one.
  if (!external(prevSpec) && !external(spec) && !spec.clusterIP && prevSpec.clusterIP) {
    spec.clusterIP = prevSpec.clusterIP;
    if (prevSpec.clusterIPs) spec.clusterIPs = [...prevSpec.clusterIPs];
  }
  if (needsNodePorts(prev) && needsNodePorts(next)) {
    const old = serviceSpec(prev).ports ?? [];
    for (const p of spec.ports ?? []) {
      if (p.nodePort) continue;
      const match = old.find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (match?.nodePort) p.nodePort = match.nodePort;
    }
  }
}

/**
 * Kubernetes' dropTypeDependentFields, before validation (so on any input): a Service becoming
 * ExternalName drops the address the update left as it was; one that no longer needs node ports has
 * them cleared (both are freed with the update).
 */
export function dropTypeDependentFields(next: KubeObject, prev: KubeObject): void {
  if (next.kind !== 'Service' || !isPlainObject(next.spec) || !isPlainObject(prev.spec)) return;
  const spec = next.spec;
  const prevSpec = prev.spec;
  if (spec.type === 'ExternalName' && prevSpec.type !== 'ExternalName' && spec.clusterIP === prevSpec.clusterIP) {
    delete spec.clusterIP;
    delete spec.clusterIPs;
    delete spec.ipFamilies;
    delete spec.ipFamilyPolicy;
  }
  if (needsNodePorts(prev) && !needsNodePorts(next) && Array.isArray(spec.ports))
    for (const p of spec.ports) if (isPlainObject(p)) delete p.nodePort;
}

/** The update rules of ValidateServiceUpdate that concern addresses. */
export function serviceUpdateCauses(next: KubeObject, prev: KubeObject): StatusCause[] {
  const a = serviceSpec(next).clusterIP;
  const b = serviceSpec(prev).clusterIP;
  // Headless stays headless, and an address stays what it is, while both need one (ExternalName frees it).
  if (
    (a === 'None') !== (b === 'None') &&
    serviceSpec(next).type !== 'ExternalName' &&
    serviceSpec(prev).type !== 'ExternalName'
  )
    return [cause.invalid('spec.clusterIPs[0]', a ?? '', 'may not change once set')];
  if (needsClusterIP(prev) && needsClusterIP(next) && b && a !== b)
    return [cause.invalid('spec.clusterIPs[0]', a ?? '', 'may not change once set')];
  return [];
}

interface Plan {
  service?: KubeObject;
  creates: KubeObject[];
  releases: ObjectKey[];
  /** Allocations the user asked for, by record key: a taken one is the user's error (with this cause), not a retry. */
  requested: Map<string, StatusCause>;
}

/** An allocation record's identity (kind and name: the address or the port). */
export const recordKey = (o: KubeObject) => `${o.kind}/${o.metadata.name ?? ''}`;

export interface AllocatorDeps {
  store: ObjectStore;
  clock: Clock;
  newUid: () => string;
  network: ServiceNetwork;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Random picks that find the address taken before the allocator reads every record and picks among the free ones. */
const RANDOM_TRIES = 4;
const ATTEMPTS = 10;

export class ServiceAllocator {
  readonly range: Ipv4Range;
  private readonly random: () => number;

  constructor(private readonly deps: AllocatorDeps) {
    this.range = new Ipv4Range(deps.network.serviceCIDR);
    this.random = deps.random ?? Math.random;
  }

  async create(service: KubeObject): Promise<StoredObject> {
    return this.commit(undefined, service, (s) => ({ op: 'create', object: s }));
  }

  async update(current: StoredObject, next: KubeObject): Promise<StoredObject> {
    return this.commit(current, next, (s) => ({
      op: 'update',
      object: s,
      previous: current,
    }));
  }

  async remove(current: StoredObject): Promise<void> {
    await this.commit(current, undefined, () => ({
      op: 'delete',
      key: { kind: 'Service', namespace: current.metadata.namespace ?? '', name: current.metadata.name },
      expectedResourceVersion: current.metadata.resourceVersion,
    }));
  }

  /** Writes the Service with its allocations; a random pick that lost its race is picked again. */
  private async commit(
    prev: StoredObject | undefined,
    next: KubeObject | undefined,
    primary: (service: KubeObject) => TransactWrite,
  ): Promise<StoredObject> {
    const avoid = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      if (attempt === RANDOM_TRIES) await this.readTaken(avoid);
      const plan = this.plan(prev, next ? structuredClone(next) : undefined, avoid);
      const writes: TransactWrite[] = [
        primary((plan.service ?? prev) as KubeObject),
        ...plan.creates.map((object): TransactWrite => ({ op: 'create', object })),
        ...plan.releases.map((key): TransactWrite => ({ op: 'delete', key })),
      ];
      try {
        const [stored] = await this.deps.store.transact(writes);
        return stored as StoredObject;
      } catch (e) {
        if (!(e instanceof TransactionError)) throw e;
        const own = e.failures[0];
        if (own) throw own;
        let lost = false;
        plan.creates.forEach((record, i) => {
          if (!(e.failures[i + 1] instanceof AlreadyExistsError)) return;
          const requested = plan.requested.get(recordKey(record));
          if (requested) throw new InvalidError('Service', '', next?.metadata.name, [requested]);
          avoid.add(recordKey(record));
          lost = true;
        });
        if (attempt >= ATTEMPTS) throw e;
        // No record was taken: a concurrent transaction touched one of these items; try again shortly.
        if (!lost) await (this.deps.sleep ?? sleep)(10 * 2 ** Math.min(attempt, 5));
      }
    }
  }

  private async readTaken(avoid: Set<string>) {
    for (const kind of [IP_ADDRESS_KIND, NODE_PORT_KIND])
      for (const o of await listAll(this.deps.store, { kind })) avoid.add(recordKey(o));
  }

  /** What to write: the Service with its addresses filled in, the records to create and those to release. Pure but for the random picks. */
  plan(prev: KubeObject | undefined, next: KubeObject | undefined, avoid: Set<string>): Plan {
    const plan: Plan = { service: next, creates: [], releases: [], requested: new Map() };
    const heldIP = ipOf(prev);
    const heldPorts = nodePortsOf(prev);
    const owner = next ?? prev;
    if (!owner) return plan;
    const parentRef = {
      group: '',
      resource: 'services',
      namespace: owner.metadata.namespace ?? '',
      name: owner.metadata.name ?? '',
    };
    const record = (kind: string, name: string): KubeObject => ({
      apiVersion: kind === IP_ADDRESS_KIND ? 'networking.k8s.io/v1' : 'kumo.dev/v1',
      kind,
      metadata: {
        name,
        uid: this.deps.newUid(),
        creationTimestamp: rfc3339(this.deps.clock.now()),
        generation: 1,
        ...(kind === IP_ADDRESS_KIND
          ? {
              labels: {
                'ipaddress.kubernetes.io/ip-family': 'IPv4',
                'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io',
              },
            }
          : {}),
      },
      spec: { parentRef },
    });
    let ip: string | undefined;
    if (next && needsClusterIP(next)) {
      const spec = serviceSpec(next);
      const asked = typeof spec.clusterIP === 'string' && spec.clusterIP !== '' ? spec.clusterIP : undefined;
      if (asked && asked !== heldIP) {
        const field = 'spec.clusterIPs';
        const invalid = (why: string) => cause.invalid(field, [asked], `failed to allocate IP ${asked}: ${why}`);
        if (!this.range.contains(asked) || this.reserved(asked))
          throw new InvalidError('Service', '', next.metadata.name, [
            invalid(
              this.reserved(asked)
                ? 'provided IP is already allocated'
                : `the provided IP (${asked}) is not in the valid range. The range of valid IPs is ${this.range.cidr}`,
            ),
          ]);
        const r = record(IP_ADDRESS_KIND, asked);
        plan.requested.set(recordKey(r), invalid('provided IP is already allocated'));
        plan.creates.push(r);
      }
      ip = asked ?? this.pickAddress(avoid, next.metadata.name);
      if (!asked) plan.creates.push(record(IP_ADDRESS_KIND, ip));
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
    }
    if (heldIP && heldIP !== ip) plan.releases.push({ kind: IP_ADDRESS_KIND, namespace: '', name: heldIP });
    const ports = new Set<number>();
    if (next && needsNodePorts(next)) {
      const { first, last } = this.deps.network.nodePorts;
      (serviceSpec(next).ports ?? []).forEach((p, i) => {
        const field = `spec.ports[${i}].nodePort`;
        if (p.nodePort) {
          if (p.nodePort < first || p.nodePort > last)
            throw new InvalidError('Service', '', next.metadata.name, [
              cause.invalid(
                field,
                p.nodePort,
                `provided port is not in the valid range. The range of valid ports is ${first}-${last}`,
              ),
            ]);
          if (!heldPorts.has(p.nodePort) && !ports.has(p.nodePort)) {
            const r = record(NODE_PORT_KIND, String(p.nodePort));
            plan.requested.set(recordKey(r), cause.invalid(field, p.nodePort, 'provided port is already allocated'));
            plan.creates.push(r);
          }
        } else {
          p.nodePort = this.pickPort(avoid, ports, next.metadata.name, field);
          plan.creates.push(record(NODE_PORT_KIND, String(p.nodePort)));
        }
        ports.add(p.nodePort);
      });
    }
    for (const held of heldPorts)
      if (!ports.has(held)) plan.releases.push({ kind: NODE_PORT_KIND, namespace: '', name: String(held) });
    return plan;
  }

  /** The cluster DNS's address is the nodes' own: never a Service's. */
  private reserved(ip: string): boolean {
    return ip === this.range.dnsAddress;
  }

  /**
   * A random free address of the upper band first: the lower band (1/16 of the range, 16 to 256
   * addresses) is kept for Services that ask for an address (Kubernetes' ServiceIPStaticSubrange).
   */
  private pickAddress(avoid: Set<string>, name: string | undefined): string {
    const size = this.range.size;
    const staticBand = size >= 64 ? Math.min(Math.max(16, Math.floor(size / 16)), 256) : 1;
    const free = (offset: number) => {
      const ip = this.range.at(offset);
      return !avoid.has(`${IP_ADDRESS_KIND}/${ip}`) && !this.reserved(ip);
    };
    // Network and broadcast addresses are never handed out.
    const found =
      this.pickFrom(staticBand, size - 2, free) ??
      (staticBand > 1 ? this.pickFrom(1, staticBand - 1, free) : undefined);
    if (found === undefined)
      throw new InvalidError('Service', '', name, [
        {
          reason: 'FieldValueInvalid',
          message: 'Internal error: failed to allocate a serviceIP: range is full',
          field: 'spec.clusterIPs',
        },
      ]);
    return this.range.at(found);
  }

  private pickPort(avoid: Set<string>, taken: Set<number>, name: string | undefined, field: string): number {
    const { first, last } = this.deps.network.nodePorts;
    const found = this.pickFrom(first, last, (p) => !taken.has(p) && !avoid.has(`${NODE_PORT_KIND}/${p}`));
    if (found === undefined)
      throw new InvalidError('Service', '', name, [
        { reason: 'FieldValueInvalid', message: 'Internal error: failed to allocate a nodePort: range is full', field },
      ]);
    return found;
  }

  /** A random start, then the first free value from there (wrapping). */
  private pickFrom(lo: number, hi: number, free: (n: number) => boolean): number | undefined {
    if (hi < lo) return undefined;
    const count = hi - lo + 1;
    const start = Math.floor(this.random() * count);
    for (let i = 0; i < count; i++) {
      const n = lo + ((start + i) % count);
      if (free(n)) return n;
    }
    return undefined;
  }
}
