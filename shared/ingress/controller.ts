import { NotFoundError, StatusError } from '../model/errors.js';
import { jsonEqual } from '../model/json.js';
import { kindNamed } from '../model/kinds.js';
import type { ObjectApi } from '../model/object-api.js';
import type { KubeObject } from '../model/types.js';
import type { EventRecorder } from '../events/recorder.js';
import { serviceViews } from '../nodes/service-view.js';
import type { Certificate, IngressProxy } from './proxy.js';
import { INGRESS_CONTROLLER, isOurs, KUMO_INGRESS_CLASS, ourClasses, routingTable, type Backend } from './routes.js';

/**
 * kumo's offline ingress controller (the role nginx-ingress or Traefik plays in a cluster): each round
 * it reads the Ingresses of its class, the Services with their EndpointSlices and the TLS Secrets the
 * Ingresses name, hands the proxy its new routes, writes each Ingress's address into its status, and
 * says in an Event when a rule names a Service or port that does not exist (that rule answers 503).
 */
export interface IngressControllerDeps {
  api: ObjectApi;
  events: EventRecorder;
  proxy: IngressProxy;
  /** Where the proxy answers, as Ingress status reports it. */
  address: string;
}

const kind = (k: string) => kindNamed(k);
type Obj = Record<string, unknown>;

export class IngressController {
  /** Problems already reported, per Ingress: an Event is written when one appears, not every round. */
  private reported = new Map<string, string>();

  constructor(private readonly deps: IngressControllerDeps) {}

  /** Installs kumo's IngressClass, the cluster's default, unless some class already names this controller. */
  async ensureClass(): Promise<void> {
    const classes = (await this.deps.api.list(kind('IngressClass'), undefined)).items;
    if (classes.some((c) => (c.spec as Obj | undefined)?.controller === INGRESS_CONTROLLER)) return;
    const anyDefault = classes.some(
      (c) => c.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true',
    );
    try {
      await this.deps.api.create(kind('IngressClass'), undefined, {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'IngressClass',
        metadata: {
          name: KUMO_INGRESS_CLASS,
          ...(anyDefault ? {} : { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }),
        },
        spec: { controller: INGRESS_CONTROLLER },
      });
    } catch (e) {
      if (!(e instanceof StatusError && e.code === 409)) throw e;
    }
  }

  async sync(): Promise<void> {
    const [ingresses, classes, services, slices] = await Promise.all(
      ['Ingress', 'IngressClass', 'Service', 'EndpointSlice'].map(
        async (k) => (await this.deps.api.list(kind(k), undefined)).items,
      ),
    );
    const ours = (ingresses ?? []).filter((i) => !i.metadata.deletionTimestamp && isOurs(i, ourClasses(classes ?? [])));
    const table = routingTable(ours);
    const views = serviceViews(services ?? [], slices ?? []);
    const problems = new Map<string, string[]>();
    const problem = (ingress: string, why: string) => problems.set(ingress, [...(problems.get(ingress) ?? []), why]);
    const certificates: Certificate[] = [];
    for (const t of table.tls) {
      const secret = await this.deps.api.get(kind('Secret'), t.namespace, t.secretName).catch((e: unknown) => {
        if (e instanceof NotFoundError) return undefined;
        throw e;
      });
      const data = (secret?.data ?? {}) as Record<string, string>;
      if (!data['tls.crt'] || !data['tls.key']) {
        problem(
          t.ingress,
          `TLS secret "${t.namespace}/${t.secretName}" ${secret ? 'has no tls.crt and tls.key' : 'not found'}`,
        );
        continue;
      }
      certificates.push({
        ingress: t.ingress,
        secret: `${t.namespace}/${t.secretName}`,
        hosts: t.hosts,
        cert: Buffer.from(data['tls.crt'], 'base64').toString('utf8'),
        key: Buffer.from(data['tls.key'], 'base64').toString('utf8'),
      });
    }
    // One bad certificate costs its own Ingress its TLS, nothing else.
    for (const { cert, why } of this.deps.proxy.update(table, views, certificates))
      problem(cert.ingress ?? '', `TLS secret "${cert.secret ?? ''}" cannot be used: ${why}`);
    const check = (ingress: string, b: Backend) => {
      const r = this.deps.proxy.resolve(b);
      if (typeof r !== 'string' && r.status === 503 && !r.why.endsWith('no ready endpoint')) problem(ingress, r.why);
    };
    for (const r of table.routes) check(r.ingress, r.backend);
    if (table.defaultBackend) check(table.defaultBackend.ingress, table.defaultBackend);
    await this.report(ours, problems);
    await this.writeStatus(ours);
  }

  private async report(ours: KubeObject[], problems: Map<string, string[]>) {
    const seen = new Map<string, string>();
    for (const ing of ours) {
      const id = `${ing.metadata.namespace}/${ing.metadata.name}`;
      const now = [...new Set(problems.get(id) ?? [])].join('; ');
      seen.set(id, now);
      if (now && this.reported.get(id) !== now)
        this.deps.events.record(ing, 'Warning', 'BackendNotFound', `${now}: the rule answers 503`);
    }
    this.reported = seen;
    await this.deps.events.flush();
  }

  private async writeStatus(ours: KubeObject[]) {
    const ports = this.deps.proxy.ports;
    const ingress = [
      {
        ip: this.deps.address,
        ports: [ports.http, ports.https]
          .filter((p): p is number => p !== undefined)
          .map((port) => ({ port, protocol: 'TCP' })),
      },
    ];
    for (const ing of ours) {
      const current = ((ing.status as Obj | undefined)?.loadBalancer as Obj | undefined)?.ingress;
      if (jsonEqual(current, ingress)) continue;
      await this.deps.api
        .patch(
          kind('Ingress'),
          ing.metadata.namespace ?? '',
          ing.metadata.name ?? '',
          'merge',
          { status: { loadBalancer: { ingress } } },
          'status',
        )
        .catch((e: unknown) => {
          if (!(e instanceof NotFoundError)) throw e;
        });
    }
  }
}
