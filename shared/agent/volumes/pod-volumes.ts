import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import type { PersistentVolumeSpec } from 'kubernetes-types/core/v1.js';
import { phaseOf as claimPhaseOf, volumeNameOf } from '../../model/storage.js';
import type { KubeObject } from '../../model/types.js';
import { podSpec } from '../../model/typed.js';
import type { Lookup, PodFacts } from '../env.js';
import { expand } from '../env.js';
import type { Mount, SandboxInfo } from '../runtime/runtime.js';
import { resolveInVolume, writeAtomically, type Ownership } from './atomic-writer.js';
import { MountError, payloadOf, type TokenSource, type VolumeSources } from './projection.js';

/**
 * A pod's volumes on this node (kubelet's volume manager): each under
 * `<pods dir>/<uid>/volumes/kubernetes.io~<plugin>/<name>` as kubelet lays them out, set up before the
 * containers start, the projected ones kept in step with their sources, all removed with the pod. The
 * pods directory is the agent's alone (0700): a Secret's files are reachable only through the mounts
 * of the pod that names it.
 */

export interface VolumeSpec extends VolumeSources {
  name: string;
  emptyDir?: { medium?: string; sizeLimit?: string | number };
  hostPath?: { path: string; type?: string };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
}

export interface VolumeMountSpec {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
  subPathExpr?: string;
}

/** Where a volume is on this node and how containers see it. */
interface Ready {
  source: string;
  kind: Mount['kind'];
  readOnly: boolean;
  /** Written by the atomic writer: a subPath resolves into the current version. */
  atomic: boolean;
}

const PLUGIN: Record<string, string> = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
};

const isProjected = (v: VolumeSpec) => !!(v.configMap || v.secret || v.downwardAPI || v.projected);

/** A timestamp for a payload version directory, as kubelet names them (`..2024_01_02_15_04_05.<random>`). */
const stampOf = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replace(/[-T:]/g, '_');

/**
 * The host path a subPath names inside a writable volume, made if missing (as kubelet does). A
 * container may have planted symlinks in the volume (CVE-2017-1002101): each component is resolved,
 * must stay inside the volume, and the engine is given the resolved path, never one with links.
 */
function subPathWithin(root: string, rel: string): string {
  const rootReal = realpathSync(root);
  const inside = (p: string) => p === rootReal || p.startsWith(`${rootReal}/`);
  let current = rootReal;
  for (const part of rel.split('/').filter((x) => x && x !== '.')) {
    const next = join(current, part);
    let st;
    try {
      st = lstatSync(next);
    } catch {
      mkdirSync(next, { mode: 0o777 });
      chmodSync(next, statSync(current).mode & 0o7777);
      current = next;
      continue;
    }
    const real = st.isSymbolicLink() ? realpathSync(next) : next;
    if (!inside(real)) throw new MountError(`subPath ${JSON.stringify(rel)} resolves outside the volume`);
    current = real;
  }
  return current;
}

/** kubelet's hostPath type checks (pkg/volume/hostpath: checkTypeInternal), with its messages. */
function checkHostPath(path: string, type: string | undefined): void {
  const stat = () => {
    try {
      return statSync(path);
    } catch {
      return undefined;
    }
  };
  let st = stat();
  if (type === 'DirectoryOrCreate' && !st) {
    mkdirSync(path, { recursive: true, mode: 0o755 });
    st = stat();
  }
  if (type === 'FileOrCreate' && !st) {
    closeSync(openSync(path, 'a', 0o644));
    st = stat();
  }
  const fail = (what: string) => {
    throw new MountError(`hostPath type check failed: ${path} is not ${what}`);
  };
  switch (type ?? '') {
    case '':
      // No checks; a missing path becomes a directory, as Docker's and containerd's bind mounts make it.
      if (!st) mkdirSync(path, { recursive: true, mode: 0o755 });
      return;
    case 'Directory':
    case 'DirectoryOrCreate':
      if (!st?.isDirectory()) fail('a directory');
      return;
    case 'File':
    case 'FileOrCreate':
      if (!st?.isFile()) fail('a file');
      return;
    case 'Socket':
      if (!st?.isSocket()) fail('a socket file');
      return;
    case 'CharDevice':
      if (!st?.isCharacterDevice()) fail('a character device');
      return;
    case 'BlockDevice':
      if (!st?.isBlockDevice()) fail('a block device');
      return;
    default:
      throw new MountError(`${type} is an invalid volume type`);
  }
}

export class PodVolumes {
  private readonly ready = new Map<string, Ready>();
  private readonly podDir: string;
  /** Torn down: no write may happen after this (a lookup in flight must not bring a Secret's files back). */
  private closed = false;
  private readonly owner: Ownership;

  constructor(
    private pod: KubeObject,
    podsDir: string,
    private readonly deps: {
      lookup: Lookup;
      /** Tokens for serviceAccountToken projections. */
      tokens?: TokenSource;
      now: () => number;
      localVolumesDir?: string;
      /** A kumo local volume's directory was made here (the control plane records it on the volume). */
      madeLocalVolume?: (name: string) => void;
    },
  ) {
    mkdirSync(podsDir, { recursive: true, mode: 0o700 });
    chmodSync(podsDir, 0o700);
    this.podDir = join(podsDir, pod.metadata.uid ?? 'unknown');
    const fsGroup = podSpec(pod).securityContext?.fsGroup;
    this.owner = fsGroup !== undefined ? { gid: fsGroup } : {};
  }

  private get volumes(): VolumeSpec[] {
    return (this.pod.spec?.volumes ?? []) as VolumeSpec[];
  }

  private dirOf(v: VolumeSpec): string {
    const plugin = Object.keys(PLUGIN).find((k) => v[k as keyof VolumeSpec] !== undefined) ?? 'emptyDir';
    return join(this.podDir, 'volumes', PLUGIN[plugin] ?? plugin, v.name);
  }

  /**
   * Sets up every volume not yet ready. A volume that cannot be set up throws kubelet's
   * `MountVolume.SetUp failed for volume "<name>" : <why>`; the ones before it stay ready.
   */
  async setUp(sandbox: SandboxInfo, facts: PodFacts): Promise<void> {
    for (const v of this.volumes) {
      if (this.closed) throw new MountError('the pod is being removed');
      if (this.ready.has(v.name)) continue;
      try {
        this.ready.set(v.name, await this.setUpOne(v, sandbox, facts));
      } catch (e) {
        throw new MountError(`MountVolume.SetUp failed for volume "${v.name}" : ${(e as Error).message}`);
      }
    }
  }

  private async setUpOne(v: VolumeSpec, sandbox: SandboxInfo, facts: PodFacts): Promise<Ready> {
    if (v.hostPath) {
      checkHostPath(v.hostPath.path, v.hostPath.type);
      return { source: v.hostPath.path, kind: 'bind', readOnly: false, atomic: false };
    }
    if (v.persistentVolumeClaim) return this.claimed(v.persistentVolumeClaim);
    if (isProjected(v)) {
      const dir = this.dirOf(v);
      const payload = await payloadOf(this.pod, v, this.deps.lookup, facts, this.deps.tokens);
      if (this.closed) throw new MountError('the pod is being removed');
      writeAtomically(dir, payload, stampOf(this.deps.now()), this.owner);
      return { source: dir, kind: 'bind', readOnly: true, atomic: true };
    }
    if (v.emptyDir?.medium === 'Memory') {
      const source = sandbox.volumes[v.name];
      if (!source) throw new MountError('the sandbox holds no memory volume of this name');
      return { source, kind: 'volume', readOnly: false, atomic: false };
    }
    if (v.emptyDir?.medium) throw new MountError(`unsupported emptyDir medium ${JSON.stringify(v.emptyDir.medium)}`);
    const dir = this.dirOf(v);
    mkdirSync(dir, { recursive: true });
    // Any user may write an emptyDir (kubelet makes it 0777); with an fsGroup it is the group's, setgid.
    if (this.owner.gid !== undefined) chownSync(dir, -1, this.owner.gid);
    chmodSync(dir, this.owner.gid !== undefined ? 0o2777 : 0o777);
    return { source: dir, kind: 'bind', readOnly: false, atomic: false };
  }

  /**
   * The volume a claim is bound to (kubelet's desired-state populator, then the local and hostPath
   * volume plugins): the claim must be Bound, its volume a local or hostPath one. kumo's own local
   * volumes (under this node's local volumes directory) are made at first mount, as local-path
   * provisioners make them; any other path must exist, as kubelet's local volume plugin requires.
   */
  private async claimed(ref: { claimName: string; readOnly?: boolean }): Promise<Ready> {
    const namespace = this.pod.metadata.namespace ?? '';
    const claim = await this.deps.lookup('PersistentVolumeClaim', namespace, ref.claimName);
    if (!claim) throw new MountError(`persistentvolumeclaim "${ref.claimName}" not found`);
    const volumeName = volumeNameOf(claim);
    if (!volumeName || claimPhaseOf(claim) !== 'Bound')
      throw new MountError(
        `PVC ${namespace}/${ref.claimName} has non-bound phase (${JSON.stringify(claimPhaseOf(claim) ?? '')}) or empty pvc.Spec.VolumeName (${JSON.stringify(volumeName ?? '')})`,
      );
    const pv = await this.deps.lookup('PersistentVolume', '', volumeName);
    if (!pv) throw new MountError(`persistentvolume "${volumeName}" not found`);
    const spec = (pv.spec ?? {}) as PersistentVolumeSpec;
    const readOnly = ref.readOnly === true;
    if (spec.local) {
      const path = spec.local.path;
      const root = this.deps.localVolumesDir;
      if (root && dirname(path) === root && !existsSync(path)) {
        mkdirSync(path, { recursive: true, mode: 0o777 });
        chmodSync(path, 0o777); // any user the pod runs as may write, as local-path volumes allow
        this.deps.madeLocalVolume?.(volumeName);
      }
      if (!existsSync(path)) throw new MountError(`path "${path}" does not exist`);
      if (this.owner.gid !== undefined) {
        // fsGroup: the volume's root is the group's, setgid (its contents keep their owners).
        chownSync(path, -1, this.owner.gid);
        chmodSync(path, (statSync(path).mode & 0o777) | 0o2070);
      }
      return { source: path, kind: 'bind', readOnly, atomic: false };
    }
    if (spec.hostPath) {
      checkHostPath(spec.hostPath.path, spec.hostPath.type);
      return { source: spec.hostPath.path, kind: 'bind', readOnly, atomic: false };
    }
    throw new MountError(
      `persistentvolume "${volumeName}" is neither a local nor a hostPath volume, which kumo nodes mount`,
    );
  }

  /** The host paths of this pod's claimed volumes that are set up (they must not be removed under it). */
  claimedPaths(): string[] {
    return this.volumes
      .filter((v) => v.persistentVolumeClaim && this.ready.has(v.name))
      .map((v) => this.ready.get(v.name)?.source ?? '');
  }

  /** Brings configMap, secret, downwardAPI and projected volumes up to date; the names of those that changed. */
  async refresh(pod: KubeObject, facts: PodFacts, lookup: Lookup = this.deps.lookup): Promise<string[]> {
    // The pod as last fetched: its labels and annotations feed downwardAPI files.
    this.pod = pod;
    const changed: string[] = [];
    for (const v of this.volumes) {
      if (!isProjected(v) || !this.ready.has(v.name)) continue;
      const payload = await payloadOf(this.pod, v, lookup, facts, this.deps.tokens).catch(() => undefined);
      if (this.closed) break;
      // A source that vanished keeps the last files, as kubelet does.
      if (payload && writeAtomically(this.dirOf(v), payload, stampOf(this.deps.now()), this.owner))
        changed.push(v.name);
    }
    return changed;
  }

  /** A container's mounts; `env` expands subPathExpr. Throws MountError for a mount it cannot make. */
  mountsFor(mounts: VolumeMountSpec[], env: Record<string, string>): Mount[] {
    return mounts.map((m) => {
      const ready = this.ready.get(m.name);
      if (!ready) throw new MountError(`volume "${m.name}" is not set up`);
      const sub = m.subPathExpr !== undefined ? expand(m.subPathExpr, env) : m.subPath;
      let source = ready.source;
      if (sub) {
        const rel = normalize(sub);
        if (rel.startsWith('..') || rel.startsWith('/'))
          throw new MountError(`subPath ${JSON.stringify(sub)} must be a relative path within the volume`);
        if (ready.kind !== 'bind')
          throw new MountError(`subPath is not supported for the memory emptyDir "${m.name}" on this runtime`);
        source = ready.atomic ? resolveInVolume(source, rel) : subPathWithin(source, rel);
      }
      return { source, kind: ready.kind, target: m.mountPath, readOnly: ready.readOnly || m.readOnly === true };
    });
  }

  /**
   * The host file kubelet mounts at a container's terminationMessagePath (one per instance, writable by
   * any user the container runs as).
   */
  terminationFile(container: string, instance: number): string {
    const dir = join(this.podDir, 'containers', container);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, String(instance));
    closeSync(openSync(file, 'w'));
    chmodSync(file, 0o666);
    return file;
  }

  /** What the container wrote to its termination message, at most 4096 bytes as kubelet reads it. */
  static readTerminationMessage(file: string): string {
    try {
      const fd = openSync(file, 'r');
      try {
        const buf = Buffer.alloc(4096);
        const n = readSync(fd, buf, 0, buf.length, 0);
        return buf.subarray(0, n).toString('utf8');
      } finally {
        closeSync(fd);
      }
    } catch {
      return '';
    }
  }

  /** Removes everything of this pod's on disk (its Secrets' files included); nothing is written after. */
  tearDown(): void {
    this.closed = true;
    rmSync(this.podDir, { recursive: true, force: true });
  }

  /** Removes the directories of pods this node no longer runs (kubelet's cleanupOrphanedPodDirs); returns how many. */
  static removeOrphans(podsDir: string, keep: ReadonlySet<string>): number {
    let names: string[];
    try {
      names = readdirSync(podsDir);
    } catch {
      return 0;
    }
    const orphans = names.filter((uid) => !keep.has(uid));
    for (const uid of orphans) rmSync(join(podsDir, uid), { recursive: true, force: true });
    return orphans.length;
  }
}
