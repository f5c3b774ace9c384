import type { ServiceView } from '../../nodes/service-view.js';

/**
 * The cluster's DNS names, answered as CoreDNS' kubernetes plugin answers them (its schema is
 * Kubernetes' DNS specification, github.com/kubernetes/dns docs/specification.md), pure:
 * - `<svc>.<ns>.svc.<domain>`: A, the cluster IP; for a headless Service every ready endpoint's IP;
 *   CNAME for an ExternalName Service;
 * - `<hostname>.<svc>.<ns>.svc.<domain>`: a headless Service's endpoint by its hostname (or its
 *   dashed IP when it has none);
 * - `_<port>._<proto>.<svc>.<ns>.svc.<domain>`: SRV for a named port;
 * - `<a-b-c-d>.<ns>.pod.<domain>`: A, the address written in the name (CoreDNS' `pods insecure`);
 * - PTR for cluster IPs.
 * A name inside the domain that does not exist is NXDOMAIN; an existing name asked for another type
 * answers no records (NODATA), so resolvers that ask A and AAAA together still succeed.
 */

export interface Answer {
  name: string;
  type: 'A' | 'CNAME' | 'SRV' | 'PTR';
  ttl: number;
  data: string | { priority: number; weight: number; port: number; target: string };
}

export type Lookup =
  { kind: 'answer'; answers: Answer[]; additionals: Answer[] } | { kind: 'nxdomain' } | { kind: 'forward' };

/** CoreDNS' kubernetes plugin default. */
export const TTL = 5;

const dashed = (ip: string) => ip.replace(/\./g, '-');
const isIPv4 = (s: string) => /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(s);

export class DnsRecords {
  private readonly byName = new Map<string, ServiceView>();
  private readonly byIP = new Map<string, ServiceView>();

  constructor(
    views: ServiceView[],
    private readonly domain: string,
    /** Reverse zones answered here (the service range's), e.g. "96.10.in-addr.arpa". */
    private readonly reverseZones: string[] = [],
  ) {
    for (const v of views) {
      this.byName.set(`${v.name}.${v.namespace}`, v);
      if (v.clusterIP) this.byIP.set(v.clusterIP, v);
    }
  }

  lookup(qname: string, qtype: string): Lookup {
    const name = qname.toLowerCase().replace(/\.$/, '');
    const domain = this.domain.toLowerCase();
    if (name.endsWith('.in-addr.arpa')) return this.reverse(name, qtype);
    if (name !== domain && !name.endsWith(`.${domain}`)) return { kind: 'forward' };
    const labels = name === domain ? [] : name.slice(0, -domain.length - 1).split('.');
    const answer = (answers: Answer[], additionals: Answer[] = []): Lookup => ({
      kind: 'answer',
      answers: answers.filter((a) => a.type === qtype || (a.type === 'CNAME' && qtype !== 'SRV')),
      additionals,
    });
    // The zone itself, `svc.<domain>`, `<ns>.svc.<domain>` and `pod.<domain>` exist (empty non-terminals).
    if (
      labels.length === 0 ||
      (labels.at(-1) === 'svc' && labels.length <= 2) ||
      (labels.at(-1) === 'pod' && labels.length <= 2)
    )
      return answer([]);
    if (labels.at(-1) === 'pod' && labels.length === 3) {
      const ip = (labels[0] ?? '').replace(/-/g, '.');
      return isIPv4(ip) ? answer([{ name, type: 'A', ttl: TTL, data: ip }]) : { kind: 'nxdomain' };
    }
    if (labels.at(-1) !== 'svc') return { kind: 'nxdomain' };
    const ns = labels.at(-2) ?? '';
    const svcName = labels.at(-3) ?? '';
    const svc = this.byName.get(`${svcName}.${ns}`);
    if (!svc) return { kind: 'nxdomain' };
    const fqdn = `${svc.name}.${svc.namespace}.svc.${domain}`;
    const rest = labels.slice(0, -3);
    const ready = svc.endpoints.filter((e) => e.ready);
    const hostOf = (e: { hostname?: string; ip: string }) => `${e.hostname ?? dashed(e.ip)}.${fqdn}`;
    if (rest.length === 0) {
      if (svc.externalName)
        return answer([{ name, type: 'CNAME', ttl: TTL, data: svc.externalName.replace(/\.$/, '') }]);
      if (svc.clusterIP) return answer([{ name, type: 'A', ttl: TTL, data: svc.clusterIP }]);
      return answer(ready.map((e) => ({ name, type: 'A' as const, ttl: TTL, data: e.ip })));
    }
    if (rest.length === 1 && svc.headless) {
      const host = rest[0];
      const matches = ready.filter((e) => (e.hostname ?? dashed(e.ip)) === host);
      return matches.length
        ? answer(matches.map((e) => ({ name, type: 'A' as const, ttl: TTL, data: e.ip })))
        : { kind: 'nxdomain' };
    }
    if (rest.length === 2 && rest[0]?.startsWith('_') && rest[1]?.startsWith('_')) {
      const portName = rest[0].slice(1);
      const protocol = rest[1].slice(1).toUpperCase();
      const port = svc.ports.find((p) => p.name === portName && p.protocol === protocol);
      if (!port) return { kind: 'nxdomain' };
      if (!svc.headless)
        return answer(
          [{ name, type: 'SRV', ttl: TTL, data: { priority: 0, weight: 100, port: port.port, target: fqdn } }],
          svc.clusterIP ? [{ name: fqdn, type: 'A', ttl: TTL, data: svc.clusterIP }] : [],
        );
      const withPort = ready.filter((e) => e.ports[portName] !== undefined);
      return answer(
        withPort.map((e) => ({
          name,
          type: 'SRV' as const,
          ttl: TTL,
          data: {
            priority: 0,
            weight: Math.floor(100 / withPort.length),
            port: e.ports[portName] ?? 0,
            target: hostOf(e),
          },
        })),
        withPort.map((e) => ({ name: hostOf(e), type: 'A' as const, ttl: TTL, data: e.ip })),
      );
    }
    return { kind: 'nxdomain' };
  }

  private reverse(name: string, qtype: string): Lookup {
    if (!this.reverseZones.some((z) => name === z || name.endsWith(`.${z}`))) return { kind: 'forward' };
    const octets = name.slice(0, -'.in-addr.arpa'.length).split('.').reverse();
    const svc = octets.length === 4 ? this.byIP.get(octets.join('.')) : undefined;
    if (!svc) return octets.length === 4 ? { kind: 'nxdomain' } : { kind: 'answer', answers: [], additionals: [] };
    const answers: Answer[] = [
      { name, type: 'PTR', ttl: TTL, data: `${svc.name}.${svc.namespace}.svc.${this.domain}` },
    ];
    return { kind: 'answer', answers: qtype === 'PTR' ? answers : [], additionals: [] };
  }
}

/** The reverse zones of a CIDR at octet boundaries (a /16 is one zone, a /20 sixteen of /24). */
export function reverseZones(base: string, prefix: number): string[] {
  const octets = base.split('.').map(Number);
  const whole = Math.floor(prefix / 8);
  const extra = prefix % 8;
  const zone = (parts: number[]) => `${[...parts].reverse().join('.')}.in-addr.arpa`;
  if (extra === 0) return [zone(octets.slice(0, whole))];
  const first = octets[whole] ?? 0;
  return Array.from({ length: 2 ** (8 - extra) }, (_, i) => zone([...octets.slice(0, whole), first + i]));
}
