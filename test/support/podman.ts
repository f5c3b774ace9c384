import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stopChild } from '../../local/processes.js';

const run = promisify(execFile);

export interface Podman {
  /** The Docker Engine API socket podman serves. */
  socket: string;
  /** A local image built from busybox-static (no registry is reachable here). */
  image: string;
  /** `podman` with this instance's settings. */
  podman(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export const TEST_IMAGE = 'localhost/kumo-test/busybox:1';

/**
 * A real container engine for the docker runtime's tests: podman's Docker-compatible service on a
 * private socket, with the settings these machines need (runc, explicit ulimits; ARCHITECTURE.md §8).
 * .ci/run installs podman, runc and busybox-static.
 */
export async function startPodman(): Promise<Podman> {
  for (const bin of ['/usr/bin/podman', '/bin/busybox'])
    if (!existsSync(bin)) throw new Error(`${bin} is missing: apt-get install -y podman runc busybox-static (.ci/run does this)`);
  const dir = mkdtempSync(join(tmpdir(), 'kumo-podman-'));
  const conf = join(dir, 'containers.conf');
  writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\n');
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const podman = async (...args: string[]) => (await run('podman', args, { env, maxBuffer: 16 * 1024 * 1024 })).stdout;

  // busybox-static and one link per applet make a complete little image.
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  mkdirSync(join(rootfs, 'tmp'));
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  const applets = (await run('/bin/busybox', ['--list'])).stdout.split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(rootfs, 'bin', a));
  await run('tar', ['-C', rootfs, '-cf', join(dir, 'rootfs.tar'), '.']);
  await podman('import', '--change', 'CMD ["/bin/sh"]', '--change', 'ENV PATH=/bin', join(dir, 'rootfs.tar'), TEST_IMAGE);

  const socket = join(dir, 'podman.sock');
  const service = spawn('podman', ['system', 'service', '--time', '0', `unix://${socket}`], { env, stdio: 'ignore', detached: true });
  const deadline = Date.now() + 20_000;
  while (!existsSync(socket)) {
    if (Date.now() > deadline) throw new Error('podman system service did not create its socket');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    socket,
    image: TEST_IMAGE,
    podman,
    async stop() {
      const ids = (await podman('ps', '-aq', '--filter', 'label=io.kumo.node')).split('\n').filter(Boolean);
      if (ids.length) await podman('rm', '-f', '-t', '0', ...ids).catch(() => undefined);
      await stopChild(service);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
