import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import type { SandboxSpec } from './runtime.js';

/**
 * What the process runtime can give a pod of its own while sharing the host's network: /etc/resolv.conf
 * and /etc/hosts, bind-mounted in a private mount namespace per container (util-linux `unshare` and
 * `mount`), and its hostname, in a UTS namespace per container. That is how a process pod finds Services by name through the cluster DNS and gets its
 * hostAliases and dnsConfig, as a hostNetwork pod does in Kubernetes. Root only: a user namespace could
 * mount for a non-root agent, but its cluster DNS cannot listen on port 53 either, so names would still
 * not resolve; there the runtime lacks these features and says so (runtime-support.ts).
 */

const SYSTEM_PATH = 'PATH=/usr/sbin:/usr/bin:/sbin:/bin';
/** By its path: a pod's env may set PATH, which spawn would search. */
const unshareBin = () => ['/usr/bin/unshare', '/bin/unshare'].find((p) => existsSync(p)) ?? 'unshare';

/**
 * The command that runs `argv` with the two files mounted over the host's and, given a `hostname`, in a
 * UTS namespace of its own by that name (the pod's name, or its spec.hostname, as a StatefulSet's pods
 * rely on). hostname(1) sets it with sethostname(2), which works where /proc/sys is read-only.
 */
export function withPodEtc(resolvConf: string, hosts: string, hostname: string | undefined, argv: string[]): string[] {
  const setName = hostname === undefined ? '' : `${SYSTEM_PATH} hostname "$3" && `;
  return [
    unshareBin(),
    '--mount',
    ...(hostname === undefined ? [] : ['--uts']),
    // slave: the host's later mounts still reach the pod; the pod's own never leave it.
    '--propagation',
    'slave',
    '--',
    '/bin/sh',
    '-c',
    // exec keeps the pid: the runtime's process group and signals reach the command itself.
    // The pod's PATH finds its command; the mounts use the system's. Arguments are passed, never spliced.
    `${SYSTEM_PATH} mount --bind -- "$1" /etc/resolv.conf && ${SYSTEM_PATH} mount --bind -- "$2" /etc/hosts && ${setName}shift 3 && exec "$@"`,
    'kumo-sandbox',
    resolvConf,
    hosts,
    hostname ?? '',
    ...argv,
  ];
}

/** Whether this process may mount in a namespace of its own: root, with unshare and mount at hand. */
export function canMountPodEtc(): boolean {
  return probe(undefined, 'grep -q "# probe" /etc/resolv.conf');
}

/** Whether it may also name a UTS namespace of its own (hostname(1) at hand, sethostname allowed). */
export function canSetPodHostname(): boolean {
  return probe('kumo-probe', 'grep -q "# probe" /etc/resolv.conf && [ "$(hostname)" = kumo-probe ]');
}

function probe(hostname: string | undefined, check: string): boolean {
  if (process.getuid?.() !== 0) return false;
  let dir: string | undefined;
  try {
    dir = mkdtempSync(join(tmpdir(), 'kumo-etc-'));
    const file = join(dir, 'probe');
    writeFileSync(file, '# probe\n');
    const [cmd, ...args] = withPodEtc(file, file, hostname, ['/bin/sh', '-c', check]);
    return spawnSync(cmd as string, args, { stdio: 'ignore', timeout: 5_000 }).status === 0;
  } catch {
    return false;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * resolv.conf as kubelet writes it (pkg/kubelet/network/dns): the pod's servers, searches and options;
 * with no servers given (dnsPolicy Default with dnsConfig) the node's, as the docker runtime does.
 */
export function resolvConfFor(dns: NonNullable<SandboxSpec['dns']>, nodeResolvConf: string): string {
  const nodeServers = nodeResolvConf
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((s): s is string => !!s);
  const servers = dns.servers.length ? dns.servers : nodeServers;
  return [
    ...servers.map((s) => `nameserver ${s}`),
    ...(dns.searches.length ? [`search ${dns.searches.join(' ')}`] : []),
    ...(dns.options.length ? [`options ${dns.options.join(' ')}`] : []),
    '',
  ].join('\n');
}

/**
 * A host-network pod's /etc/hosts (kubelet's nodeHostsFileContent): the node's, the pod's own name (on
 * loopback, where a process pod listens; with its domain first when it has a subdomain, so
 * `hostname -f` answers the FQDN), then the hostAliases.
 */
export function hostsFileFor(
  aliases: SandboxSpec['hostAliases'],
  nodeHosts: string,
  own?: { hostname: string; domain?: string },
): string {
  const lines = ['# Kubernetes-managed hosts file (host network).', nodeHosts.trimEnd()];
  if (own) lines.push(`127.0.0.1\t${own.domain ? `${own.hostname}.${own.domain}\t` : ''}${own.hostname}`);
  if (aliases.length) {
    lines.push('', '# Entries added by HostAliases.');
    for (const a of aliases) lines.push(`${a.ip}\t${a.hostnames.join('\t')}`);
  }
  return lines.join('\n') + '\n';
}

export function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/**
 * Whether `file` names something to run, as spawn would find it: through the wrapper a missing command
 * would otherwise be the shell's exit 127 instead of a container that cannot start.
 */
export function findExecutable(file: string, path: string, cwd: string): boolean {
  const candidates = file.includes('/')
    ? [resolve(cwd, file)]
    : path.split(delimiter).map((d) => resolve(cwd, d || '.', file));
  return candidates.some((c) => {
    try {
      accessSync(c, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
