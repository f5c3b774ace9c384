import type { KubeObject } from '../model/types.js';
import { parseQuantity } from '../model/quantity.js';
import { LABELS, type PortMapping, type SandboxSpec } from './runtime/runtime.js';

/**
 * A pod's sandbox as kubelet configures it (pkg/kubelet/kuberuntime/kuberuntime_sandbox.go
 * generatePodSandboxConfig, and pkg/kubelet/network/dns for resolv.conf): hostname and domain, host
 * aliases, DNS per dnsPolicy, the hostPorts of every container, namespaced sysctls, and the memory
 * emptyDirs the sandbox owns.
 */

export interface DnsSettings {
  /** The cluster DNS server, once the Services issue provides one; undefined today. */
  clusterDNS?: string;
  clusterDomain: string;
}

interface ContainerPortView {
  containerPort: number;
  hostPort?: number;
  hostIP?: string;
  protocol?: 'TCP' | 'UDP';
}

interface PodSpecView {
  hostname?: string;
  subdomain?: string;
  setHostnameAsFQDN?: boolean;
  hostNetwork?: boolean;
  hostIPC?: boolean;
  hostAliases?: { ip: string; hostnames?: string[] }[];
  dnsPolicy?: string;
  dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: { name: string; value?: string }[] };
  securityContext?: { sysctls?: { name: string; value: string }[] };
  volumes?: { name: string; emptyDir?: { medium?: string; sizeLimit?: string | number } }[];
  containers?: { ports?: ContainerPortView[] }[];
  initContainers?: { ports?: ContainerPortView[] }[];
}

export function sandboxName(pod: KubeObject): string {
  return `kumo_${pod.metadata.name}_${pod.metadata.namespace}_${(pod.metadata.uid ?? '').slice(0, 8)}_sandbox`;
}

/**
 * resolv.conf per dnsPolicy. Without a cluster DNS, ClusterFirst falls back to the node's settings, and
 * kubelet says so with a MissingClusterDNS event (`fallback`).
 */
export function dnsFor(pod: KubeObject, dns: DnsSettings): { dns?: SandboxSpec['dns']; fallback?: string } {
  const spec = (pod.spec ?? {}) as PodSpecView;
  const policy = spec.dnsPolicy ?? 'ClusterFirst';
  const cfg = spec.dnsConfig;
  const options = (cfg?.options ?? []).map((o) => (o.value !== undefined ? `${o.name}:${o.value}` : o.name));
  // kubelet: ClusterFirst on the host network is Default (ClusterFirstWithHostNet asks for the cluster's).
  const usesCluster = (policy === 'ClusterFirst' && !spec.hostNetwork) || policy === 'ClusterFirstWithHostNet';
  if (usesCluster && dns.clusterDNS) {
    const ns = pod.metadata.namespace ?? 'default';
    return {
      dns: {
        servers: [dns.clusterDNS, ...(cfg?.nameservers ?? [])],
        searches: [
          `${ns}.svc.${dns.clusterDomain}`,
          `svc.${dns.clusterDomain}`,
          dns.clusterDomain,
          ...(cfg?.searches ?? []),
        ],
        options: ['ndots:5', ...options],
      },
    };
  }
  const fallback = usesCluster
    ? `kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.`
    : undefined;
  if (policy === 'None') return { dns: { servers: cfg?.nameservers ?? [], searches: cfg?.searches ?? [], options } };
  // Default (or the fallback): the node's resolv.conf, with dnsConfig merged when given.
  if (cfg && (cfg.nameservers?.length || cfg.searches?.length || options.length))
    return { dns: { servers: cfg.nameservers ?? [], searches: cfg.searches ?? [], options }, fallback };
  return { fallback };
}

export function sandboxSpec(pod: KubeObject, nodeName: string, dns: DnsSettings): SandboxSpec {
  const spec = (pod.spec ?? {}) as PodSpecView;
  const hostname = (spec.hostname || pod.metadata.name || '').slice(0, 63);
  const domain = spec.subdomain
    ? `${spec.subdomain}.${pod.metadata.namespace ?? 'default'}.svc.${dns.clusterDomain}`
    : undefined;
  const ports: PortMapping[] = [...(spec.initContainers ?? []), ...(spec.containers ?? [])].flatMap((c) =>
    (c.ports ?? []).map((p) => ({
      containerPort: p.containerPort,
      hostPort: p.hostPort,
      ...(p.hostIP ? { hostIP: p.hostIP } : {}),
      protocol: p.protocol ?? 'TCP',
    })),
  );
  const resolv = dnsFor(pod, dns).dns;
  return {
    name: sandboxName(pod),
    labels: {
      [LABELS.node]: nodeName,
      [LABELS.podUid]: pod.metadata.uid ?? '',
      [LABELS.podNamespace]: pod.metadata.namespace ?? '',
      [LABELS.podName]: pod.metadata.name ?? '',
      [LABELS.sandbox]: 'true',
    },
    // setHostnameAsFQDN: the kernel hostname is the FQDN (kubelet; at most 64 characters, else the pod fails).
    hostname: spec.setHostnameAsFQDN && domain ? `${hostname}.${domain}` : hostname,
    ...(domain && !spec.setHostnameAsFQDN ? { domain } : {}),
    hostNetwork: spec.hostNetwork === true,
    hostIPC: spec.hostIPC === true,
    hostAliases: (spec.hostAliases ?? []).map((a) => ({ ip: a.ip, hostnames: a.hostnames ?? [] })),
    ...(resolv ? { dns: resolv } : {}),
    ports,
    sysctls: Object.fromEntries((spec.securityContext?.sysctls ?? []).map((s) => [s.name, s.value])),
    memoryVolumes: (spec.volumes ?? [])
      .filter((v) => v.emptyDir?.medium === 'Memory')
      .map((v) => {
        const size = v.emptyDir?.sizeLimit !== undefined ? parseQuantity(v.emptyDir.sizeLimit) : undefined;
        return { name: v.name, ...(size ? { sizeBytes: Math.ceil(size) } : {}) };
      }),
  };
}
