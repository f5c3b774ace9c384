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
  /** The pod sandbox's image, built locally too: podman's own catatonit as pause. */
  sandboxImage: string;
  /** `podman` with this instance's settings. */
  podman(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export const TEST_IMAGE = 'localhost/kumo-test/busybox:1';
export const SANDBOX_IMAGE = 'localhost/kumo/pause:1';

/** catatonit (podman's own init, static) runs as pause with -P; busybox's sleep stands in where it is absent. */
const CATATONIT = ['/usr/bin/catatonit', '/usr/libexec/podman/catatonit'].find((p) => existsSync(p));

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
 * agent reads the exit code as soon as the session's output ends, so 5 seconds is ample. And no tmpfs
 * over /tmp, /run and /var/tmp of a read-only container: in Kubernetes readOnlyRootFilesystem leaves
 * them read-only, and an app writes where it mounted an emptyDir.
 */
export const PODMAN_CONTAINERS_CONF = `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
read_only_tmpfs = false
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
export async function startPodman(
  images: string[] = [TEST_IMAGE],
  /** Registries on loopback that serve plain HTTP (a test's own registry). */
  opts: { insecureRegistries?: string[] } = {},
): Promise<Podman> {
  const missing = podmanMissing();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), 'kumo-podman-'));
  const conf = join(dir, 'containers.conf');
  writeFileSync(conf, PODMAN_CONTAINERS_CONF);
  const env: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_CONF: conf };
  if (opts.insecureRegistries?.length) {
    const registries = join(dir, 'registries.conf');
    writeFileSync(
      registries,
      opts.insecureRegistries.map((r) => `[[registry]]\nlocation = "${r}"\ninsecure = true\n`).join('\n'),
    );
    env.CONTAINERS_REGISTRIES_CONF = registries;
  }
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
  const pause = join(dir, 'pause');
  mkdirSync(pause);
  if (CATATONIT) copyFileSync(CATATONIT, join(pause, 'pause'));
  else copyFileSync('/bin/busybox', join(pause, 'busybox'));
  await run('tar', ['-C', pause, '-cf', join(dir, 'pause.tar'), '.']);
  await podman(
    'import',
    '--change',
    CATATONIT ? 'ENTRYPOINT ["/pause", "-P"]' : 'ENTRYPOINT ["/busybox", "sleep", "2147483647"]',
    join(dir, 'pause.tar'),
    SANDBOX_IMAGE,
  );

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
    sandboxImage: SANDBOX_IMAGE,
    podman,
    async stop() {
      // Members before their sandboxes: podman will not remove a container others join.
      for (const filter of ['label=io.kumo.container', 'label=io.kumo.node']) {
        const ids = (await podman('ps', '-aq', '--filter', filter)).split('\n').filter(Boolean);
        if (ids.length) await podman('rm', '-f', '-t', '0', ...ids).catch(() => undefined);
      }
      const volumes = (await podman('volume', 'ls', '-q', '--filter', 'label=io.kumo.node').catch(() => ''))
        .split('\n')
        .filter(Boolean);
      if (volumes.length) await podman('volume', 'rm', '-f', ...volumes).catch(() => undefined);
      await stopChild(service);
      dismissWatchdog();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
