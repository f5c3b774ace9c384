import ipaddr from 'ipaddr.js';

/**
 * The cluster's service network: kube-apiserver's --service-cluster-ip-range and
 * --service-node-port-range, and the DNS domain kubelet's --cluster-domain names. The API allocates
 * from it; agents route the range, serve its DNS address and learn all of it at registration.
 */
export interface ServiceNetwork {
  /** An IPv4 CIDR (kumo is single-stack). */
  serviceCIDR: string;
  nodePorts: { first: number; last: number };
  clusterDomain: string;
}

/** kind's choice (and kubeadm's address for the cluster DNS, 10.96.0.10); the AWS stage sets its own (serverless.yml). */
export const DEFAULT_SERVICE_NETWORK: ServiceNetwork = {
  serviceCIDR: '10.96.0.0/16',
  nodePorts: { first: 30000, last: 32767 },
  clusterDomain: 'cluster.local',
};

/** An IPv4 range as numbers. */
export class Ipv4Range {
  readonly base: number;
  readonly size: number;
  constructor(readonly cidr: string) {
    const [addr, bits] = ipaddr.IPv4.parseCIDR(cidr);
    this.size = 2 ** (32 - bits);
    this.base = Math.floor(toNumber(addr.toString()) / this.size) * this.size;
  }
  contains(ip: string): boolean {
    if (!ipaddr.IPv4.isValidFourPartDecimal(ip)) return false;
    const n = toNumber(ip);
    return n >= this.base && n < this.base + this.size;
  }
  at(offset: number): string {
    const n = this.base + offset;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }
  /** Where the cluster DNS answers: the tenth address, where kubeadm and kind put kube-dns (10.96.0.10). */
  get dnsAddress(): string {
    return this.at(10);
  }
}

const toNumber = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);

/** Parses "30000-32767" (kube-apiserver's --service-node-port-range). */
export function parsePortRange(text: string): { first: number; last: number } {
  const m = /^(\d+)-(\d+)$/.exec(text.trim());
  const first = Number(m?.[1]);
  const last = Number(m?.[2]);
  if (!m || first < 1 || last > 65535 || first > last) throw new Error(`not a port range: ${JSON.stringify(text)}`);
  return { first, last };
}
