import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { Payload } from './projection.js';

/**
 * kubelet's AtomicWriter (pkg/volume/util/atomic_writer.go): a payload is written into a fresh
 * `..<timestamp>` directory, published by renaming a `..data_tmp` symlink over `..data`, and each
 * top-level entry is a symlink into `..data`. A reader sees the old set of files or the new one,
 * never a mix, and a change reaches running containers without a restart (except through subPath,
 * which binds one version's file, as in Kubernetes).
 */

const DATA = '..data';
const DATA_TMP = '..data_tmp';

/** The ownership a volume's files get (fsGroup), with kubelet's read-only mask: group may read. */
export interface Ownership {
  gid?: number;
}

/** A file's mode once written: with an fsGroup, group may read (kubelet's roMask; these volumes are read-only). */
const modeOf = (mode: number, owner: Ownership) => (owner.gid !== undefined ? mode | 0o440 : mode);

function samePayload(dir: string, payload: Payload, owner: Ownership): boolean {
  const current = join(dir, DATA);
  try {
    for (const [path, file] of payload) {
      const p = join(current, path);
      const st = lstatSync(p);
      if ((st.mode & 0o7777) !== modeOf(file.mode, owner)) return false;
      if (owner.gid !== undefined && st.gid !== owner.gid) return false;
      if (!readFileSync(p).equals(file.data)) return false;
    }
    // No file beyond the payload's.
    const count = (d: string): number =>
      readdirSync(d, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? count(join(d, e.name)) : 1), 0);
    return count(current) === payload.size;
  } catch {
    return false;
  }
}

/**
 * kubelet's validatePayload: every path relative, with no `..` element, not starting with `..` (the
 * writer's own names), and a mode without setuid, setgid or sticky bits. Admission checks the same;
 * this guards objects stored before it did.
 */
function checkPayload(payload: Payload): void {
  for (const [path, file] of payload) {
    if (isAbsolute(path)) throw new Error(`invalid path: must be relative path: ${path}`);
    if (path.split('/').includes('..')) throw new Error(`invalid path: must not contain '..': ${path}`);
    if (path.startsWith('..')) throw new Error(`invalid path: must not start with '..': ${path}`);
    if (file.mode & ~0o777) throw new Error(`invalid mode ${file.mode.toString(8)} for ${path}: at most 0777`);
  }
}

/** Writes `payload` into `dir` if it differs from what is there; true when it wrote. `stamp` names the version. */
export function writeAtomically(dir: string, payload: Payload, stamp: string, owner: Ownership = {}): boolean {
  checkPayload(payload);
  mkdirSync(dir, { recursive: true });
  if (samePayload(dir, payload, owner)) return false;
  const previous = (() => {
    try {
      return readlinkSync(join(dir, DATA));
    } catch {
      return undefined;
    }
  })();
  const version = mkdtempSync(join(dir, `..${stamp}.`));
  chmodSync(version, 0o755);
  for (const [path, file] of payload) {
    const target = join(version, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.data, { mode: file.mode });
    // writeFileSync's mode passes through the umask; kubelet chmods after writing so it does not.
    if (owner.gid !== undefined) chownSync(target, -1, owner.gid);
    chmodSync(target, modeOf(file.mode, owner));
  }
  if (owner.gid !== undefined) {
    chownSync(version, -1, owner.gid);
    chmodSync(version, 0o2755);
  }
  rmSync(join(dir, DATA_TMP), { force: true });
  symlinkSync(version.slice(dir.length + 1), join(dir, DATA_TMP));
  renameSync(join(dir, DATA_TMP), join(dir, DATA));
  // The user-visible names: one symlink per top-level entry, into ..data; stale ones go.
  const top = new Set([...payload.keys()].map((p) => p.split('/')[0] ?? p));
  for (const name of top) {
    const link = join(dir, name);
    try {
      if (readlinkSync(link) === join(DATA, name)) continue;
    } catch {
      // missing or not a link
    }
    rmSync(link, { recursive: true, force: true });
    symlinkSync(join(DATA, name), link);
  }
  for (const entry of readdirSync(dir))
    if (!entry.startsWith('..') && !top.has(entry)) rmSync(join(dir, entry), { force: true });
  if (previous && previous !== DATA) rmSync(join(dir, previous), { recursive: true, force: true });
  return true;
}

/** The file a subPath names, resolved into the current version (Kubernetes binds it once; later versions do not reach it). */
export function resolveInVolume(dir: string, subPath: string): string {
  try {
    const version = readlinkSync(join(dir, DATA));
    return join(dir, version, subPath);
  } catch {
    return join(dir, subPath);
  }
}
