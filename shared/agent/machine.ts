import { readFileSync } from 'node:fs';
import { arch, availableParallelism, hostname, networkInterfaces, platform, release, totalmem } from 'node:os';
import type { RegisterRequest } from '../nodes/protocol.js';
import { httpCall } from '../util/http-call.js';
import {
  LABEL_HOSTNAME,
  LABEL_INSTANCE_TYPE,
  LABEL_TOPOLOGY_REGION,
  LABEL_TOPOLOGY_ZONE,
} from '../model/well-known.js';
import { isPlainObject } from '../model/json.js';

/** What the agent can learn about where it runs; on AWS the metadata endpoints add zone and instance type. */
export interface MachineFacts {
  hostname: string;
  cpus: number;
  memoryBytes: number;
  os: string;
  arch: string;
  kernel: string;
  internalIP: string;
  /** /etc/machine-id, the DMI product uuid, /proc's boot id and os-release's PRETTY_NAME (kubelet's sources). */
  machineID?: string;
  systemUUID?: string;
  bootID?: string;
  osImage?: string;

  aws?: { zone?: string; region?: string; instanceType?: string; instanceId?: string; launchType?: string };
}

export interface MachineOverrides {
  cpu?: string;
  memory?: string;
  pods?: number;
  /** Kept back for the system and the agent (kubelet's system-reserved). */
  reservedCpu?: string;
  reservedMemory?: string;
  labels?: Record<string, string>;
  taints?: RegisterRequest['taints'];
  internalIP?: string;
}

/** What the node reports as its kubelet's (and kube-proxy's) version: `kubectl get nodes` prints it. */
export const AGENT_VERSION = 'kumo-agent/0.1.0';

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };

const readTrimmed = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
};

/** os-release's PRETTY_NAME, as kubelet reports osImage. */
export function osImageOf(osRelease: string | undefined): string | undefined {
  const line = osRelease?.split('\n').find((l) => l.startsWith('PRETTY_NAME='));
  return line?.slice('PRETTY_NAME='.length).replace(/^["']|["']$/g, '') || undefined;
}

export function localFacts(): MachineFacts {
  const ip =
    Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address ?? '127.0.0.1';
  return {
    hostname: hostname().toLowerCase(),
    cpus: availableParallelism(),
    memoryBytes: totalmem(),
    os: platform(),
    arch: GO_ARCH[arch()] ?? arch(),
    kernel: release(),
    internalIP: ip,
    machineID: readTrimmed('/etc/machine-id') ?? readTrimmed('/var/lib/dbus/machine-id'),
    // Readable by root only on most machines; kubelet falls back likewise.
    systemUUID: readTrimmed('/sys/class/dmi/id/product_uuid')?.toLowerCase(),
    bootID: readTrimmed('/proc/sys/kernel/random/boot_id'),
    osImage: osImageOf(readTrimmed('/etc/os-release') ?? readTrimmed('/usr/lib/os-release')),
  };
}

async function getText(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<string | undefined> {
  try {
    const res = await httpCall(method, url, { headers, timeoutMs: 500 });
    return res.status === 200 ? res.body.trim() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * EC2's instance metadata (IMDSv2) or ECS's task metadata (v4), whichever answers within half a
 * second; nothing off AWS. `ecsMetadataUri` is ECS_CONTAINER_METADATA_URI_V4 when set.
 */
export async function awsFacts(ecsMetadataUri: string | undefined): Promise<MachineFacts['aws']> {
  if (ecsMetadataUri) {
    const task = await getText(`${ecsMetadataUri}/task`);
    if (task) {
      const t: unknown = JSON.parse(task);
      const field = (k: string) => (isPlainObject(t) && typeof t[k] === 'string' ? t[k] : undefined);
      const zone = field('AvailabilityZone');
      return {
        zone,
        region: zone?.replace(/[a-z]$/, ''),
        launchType: field('LaunchType'),
        instanceId: field('TaskARN')?.split('/').at(-1),
      };
    }
  }
  const imds = 'http://169.254.169.254/latest';
  const token = await getText(`${imds}/api/token`, { 'x-aws-ec2-metadata-token-ttl-seconds': '60' }, 'PUT');
  if (!token) return undefined;
  const get = (p: string) => getText(`${imds}/meta-data/${p}`, { 'x-aws-ec2-metadata-token': token });
  const [zone, instanceType, instanceId] = await Promise.all([
    get('placement/availability-zone'),
    get('instance-type'),
    get('instance-id'),
  ]);
  return { zone, region: zone?.replace(/[a-z]$/, ''), instanceType, instanceId, launchType: 'EC2' };
}

/**
 * EC2 without a network call: AWS documents the DMI vendor and asset tag (Nitro: "Amazon EC2",
 * the instance id) and the Xen hypervisor uuid (starts with "ec2") as the local ways to tell.
 * `read` returns a file's text or undefined.
 */
export function looksLikeEc2(read: (path: string) => string | undefined): boolean {
  const vendor = read('/sys/devices/virtual/dmi/id/sys_vendor')?.trim();
  const assetTag = read('/sys/devices/virtual/dmi/id/board_asset_tag')?.trim();
  const xen = read('/sys/hypervisor/uuid')?.trim().toLowerCase();
  return vendor === 'Amazon EC2' || /^i-[0-9a-f]{8,17}$/.test(assetTag ?? '') || !!xen?.startsWith('ec2');
}

const mebibytes = (bytes: number) => `${Math.floor(bytes / 1024 / 1024)}Mi`;

/** The Node's registration from the machine's facts and the operator's overrides. */
export function registration(
  nodeName: string,
  facts: MachineFacts,
  o: MachineOverrides = {},
): Omit<RegisterRequest, 'holder'> {
  const cpuMilli = o.cpu ? Math.round(Number.parseFloat(o.cpu) * (o.cpu.endsWith('m') ? 1 : 1000)) : facts.cpus * 1000;
  const memory = o.memory ?? mebibytes(facts.memoryBytes);
  const reservedCpu = o.reservedCpu
    ? Math.round(Number.parseFloat(o.reservedCpu) * (o.reservedCpu.endsWith('m') ? 1 : 1000))
    : 100;
  const memMi = Number.parseInt(memory, 10) * (memory.endsWith('Gi') ? 1024 : 1);
  const reservedMi = o.reservedMemory
    ? Number.parseInt(o.reservedMemory, 10) * (o.reservedMemory.endsWith('Gi') ? 1024 : 1)
    : 256;
  const pods = String(o.pods ?? 110);
  const aws = facts.aws;
  const labels: Record<string, string> = {
    [LABEL_HOSTNAME]: nodeName,
    'kubernetes.io/os': facts.os,
    'kubernetes.io/arch': facts.arch,
    ...(aws?.zone ? { [LABEL_TOPOLOGY_ZONE]: aws.zone } : {}),
    ...(aws?.region ? { [LABEL_TOPOLOGY_REGION]: aws.region } : {}),
    ...(aws?.instanceType ? { [LABEL_INSTANCE_TYPE]: aws.instanceType } : {}),
    ...(aws?.launchType ? { 'kumo.io/launch-type': aws.launchType } : {}),
    ...o.labels,
  };
  const ip = o.internalIP ?? facts.internalIP;
  return {
    labels,
    taints: o.taints ?? [],
    capacity: { cpu: `${cpuMilli}m`, memory: `${memMi}Mi`, pods },
    allocatable: {
      cpu: `${Math.max(0, cpuMilli - reservedCpu)}m`,
      memory: `${Math.max(0, memMi - reservedMi)}Mi`,
      pods,
    },
    addresses: [
      { type: 'InternalIP', address: ip },
      { type: 'Hostname', address: facts.hostname },
    ],
    // All ten fields the v1 NodeSystemInfo schema requires (typed clients refuse a Node without them).
    nodeInfo: {
      machineID: facts.machineID ?? '',
      systemUUID: facts.systemUUID ?? facts.machineID ?? '',
      bootID: facts.bootID ?? '',
      kernelVersion: facts.kernel,
      osImage: facts.osImage ?? facts.os,
      containerRuntimeVersion: '',
      kubeletVersion: AGENT_VERSION,
      // The agent is also the node's proxy.
      kubeProxyVersion: AGENT_VERSION,
      operatingSystem: facts.os,
      architecture: facts.arch,
    },
    ...(aws?.instanceId && aws.zone ? { providerID: `aws:///${aws.zone}/${aws.instanceId}` } : {}),
  };
}
