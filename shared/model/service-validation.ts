import ipaddr from 'ipaddr.js';
import { cause, type StatusCause } from './errors.js';
import { serviceSpec } from './typed.js';
import type { KubeObject } from './types.js';

/**
 * What ValidateService (pkg/apis/core/validation) checks of a Service's addresses and ports that a
 * schema cannot: the address is an IPv4 address (kumo's service range is single-stack), a headless
 * Service has no node ports, and the type decides which of them may be set.
 */
export function serviceProblems(svc: KubeObject): StatusCause[] {
  const spec = serviceSpec(svc);
  const out: StatusCause[] = [];
  const type = spec.type ?? 'ClusterIP';
  const ip = spec.clusterIP;
  const ips = spec.clusterIPs ?? [];
  if (ips.length > 1)
    out.push(cause.invalid('spec.clusterIPs', ips, 'this cluster is single-stack IPv4: a Service holds one address'));
  if (ip && ips[0] !== undefined && ips[0] !== ip)
    out.push(cause.invalid('spec.clusterIPs', ips, 'must match clusterIP when both are specified'));
  if (type === 'ExternalName') {
    if (ip) out.push(cause.invalid('spec.clusterIPs', [ip], 'may not be set for ExternalName services'));
    return out;
  }
  if (ip && ip !== 'None' && !ipaddr.IPv4.isValidFourPartDecimal(ip))
    out.push(
      cause.invalid(
        'spec.clusterIPs[0]',
        ip,
        ipaddr.IPv6.isValid(ip)
          ? 'this cluster is single-stack IPv4: its service range holds no IPv6 address'
          : 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
      ),
    );
  if (ip === 'None' && (type === 'NodePort' || type === 'LoadBalancer'))
    out.push(cause.invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${type} services`));
  // Kubernetes' DenyServiceExternalIPs admission (CVE-2020-8554): no node carries externalIPs here.
  if ((spec.externalIPs ?? []).length) out.push(cause.forbidden('spec.externalIPs', 'externalIPs have been disabled'));
  const headless = ip === 'None';
  if (!headless && spec.ipFamilyPolicy === 'RequireDualStack')
    out.push(
      cause.invalid(
        'spec.ipFamilyPolicy',
        'RequireDualStack',
        'this cluster is not configured for dual-stack services',
      ),
    );
  (spec.ipFamilies ?? []).forEach((f, i) => {
    if (!headless && f !== 'IPv4')
      out.push(cause.invalid(`spec.ipFamilies[${i}]`, f, 'not configured on this cluster'));
  });
  // The nodes' data paths carry TCP and UDP only.
  const seen = new Set<string>();
  const nodePorts = new Set<string>();
  (spec.ports ?? []).forEach((p, i) => {
    if (p.protocol === 'SCTP') out.push(cause.notSupported(`spec.ports[${i}].protocol`, 'SCTP', ['TCP', 'UDP']));
    // ValidateService: one port number per protocol, one node port per protocol.
    const key = `${p.port}/${p.protocol ?? 'TCP'}`;
    if (seen.has(key)) out.push(cause.duplicate(`spec.ports[${i}]`, { port: p.port, protocol: p.protocol ?? 'TCP' }));
    seen.add(key);
    if (p.nodePort) {
      const np = `${p.nodePort}/${p.protocol ?? 'TCP'}`;
      if (nodePorts.has(np)) out.push(cause.duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
      nodePorts.add(np);
    }
  });
  if (type === 'ClusterIP')
    (spec.ports ?? []).forEach((p, i) => {
      if (p.nodePort)
        out.push(cause.forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
    });
  const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  if (timeout !== undefined && (timeout <= 0 || timeout > 86400))
    out.push(
      cause.invalid(
        'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
        timeout,
        'must be greater than 0 and less than 86400',
      ),
    );
  return out;
}
