import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { endWithThisProcess, stopChild } from './processes.js';

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

/** What podman needs that a machine may lack, or undefined when all is there. */
export function podmanMissing(): string | undefined {
  // podman and runc are found as the engine will be started: on PATH (a machine without them on PATH
  // has none, whatever /usr/bin holds); busybox-static is copied into the local image from its path.
  const onPath = (cmd: string) =>
    (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, cmd)));
  if (!onPath('podman')) return 'podman is not on PATH: apt-get install -y podman runc busybox-static';
  if (!onPath('runc') && !['/usr/sbin/runc', '/usr/bin/runc'].some((p) => existsSync(p)))
    return 'runc is not installed: apt-get install -y podman runc busybox-static';
  if (!existsSync('/bin/busybox')) return '/bin/busybox is missing: apt-get install -y podman runc busybox-static';
  return undefined;
}

/**
 * podman's engine settings for kumo: runc and explicit ulimits (crun fails on these VMs; ARCHITECTURE.md
 * §8), and a short exit_command_delay. podman keeps each API exec session, with two conmon processes,
 * for exit_command_delay seconds after it ends (300 by default) so a client can still read its exit
 * code; exec probes every few seconds then held hundreds of conmons (about 330 MB) on a node. The
 * agent reads the exit code as soon as the session's output ends, so 5 seconds is ample.
 */
export const PODMAN_CONTAINERS_CONF = `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
exit_command_delay = 5
`;

/**
 * A real container engine for the docker runtime: podman's Docker-compatible service on a private
 * socket, with kumo's settings, and a local image built from busybox-static (no registry is reachable)
 * under each name in `images`. For the docker runtime's tests and `npm start -- --runtime docker`;
 * .ci/run installs podman, runc and busybox-static.
 */
export async function startPodman(images: string[] = [TEST_IMAGE]): Promise<Podman> {
  const missing = podmanMissing();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), 'kumo-podman-'));
  const conf = join(dir, 'containers.conf');
  writeFileSync(conf, PODMAN_CONTAINERS_CONF);
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
  const [first, ...more] = images;
  if (first)
    await podman('import', '--change', 'CMD ["/bin/sh"]', '--change', 'ENV PATH=/bin', join(dir, 'rootfs.tar'), first);
  for (const name of more) await podman('tag', first as string, name);

  const socket = join(dir, 'podman.sock');
  const service = spawn('podman', ['system', 'service', '--time', '0', `unix://${socket}`], {
    env,
    stdio: 'ignore',
    detached: true,
  });
  // The service is a process group of its own: it must not outlive whoever started it, even killed outright.
  const dismissWatchdog = endWithThisProcess(service);
  const deadline = Date.now() + 20_000;
  while (!existsSync(socket)) {
    if (Date.now() > deadline) throw new Error('podman system service did not create its socket');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    socket,
    image: first ?? TEST_IMAGE,
    podman,
    async stop() {
      const ids = (await podman('ps', '-aq', '--filter', 'label=io.kumo.node')).split('\n').filter(Boolean);
      if (ids.length) await podman('rm', '-f', '-t', '0', ...ids).catch(() => undefined);
      await stopChild(service);
      dismissWatchdog();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
