import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, readlinkSync, readdirSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stopChild } from '../../local/processes.js';

const run = promisify(execFile);

/**
 * Runs a command in a network namespace of its own that has no way off the machine, and counts every
 * packet it tries to send anywhere but loopback. The namespace holds `lo` and a veth pair whose both
 * ends stay inside it, with the default route pointing into that pair: a connect to 169.254.169.254 or
 * any other address is routed (not refused with ENETUNREACH before a packet exists), reaches nftables'
 * output hook, is counted with its destination, and dropped. Nothing can leave even without the rule:
 * the pair leads nowhere. IPv6 is off on the pair so the kernel's own neighbour discovery is not counted.
 */
const SETUP = `set -e
ip link set lo up
ip link add kumo-out type veth peer name kumo-sink
sysctl -qw net.ipv6.conf.kumo-out.disable_ipv6=1 net.ipv6.conf.kumo-sink.disable_ipv6=1
ip link set kumo-out up
ip link set kumo-sink up
ip addr add 192.0.2.1/24 dev kumo-out
ip route add default via 192.0.2.2 dev kumo-out
ip -6 route add default dev kumo-out 2>/dev/null || true
nft -f - <<'NFT'
table inet kumo_guard {
  counter offbox {}
  set v4 { type ipv4_addr; flags dynamic; size 256; }
  set v6 { type ipv6_addr; flags dynamic; size 256; }
  chain out {
    type filter hook output priority 0; policy accept;
    oifname "lo" accept
    meta nfproto ipv4 add @v4 { ip daddr } counter name offbox drop
    meta nfproto ipv6 add @v6 { ip6 daddr } counter name offbox drop
    counter name offbox drop
  }
}
NFT
exec "$@"`;

/** Why isolation cannot run here, or undefined when it can (unshare, ip and nft, and a namespace we may make). */
export function isolationUnavailable(): string | undefined {
  for (const bin of ['unshare', 'ip', 'nft', 'nsenter']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `${bin} is not installed (apt-get install -y util-linux iproute2 nftables)`;
    }
  }
  try {
    execFileSync(
      'unshare',
      [...userFlags(), '--net', 'sh', '-c', 'ip link add t0 type veth peer name t1 && nft list tables'],
      { stdio: 'ignore' },
    );
  } catch {
    return 'this user may not create a network namespace with a veth pair and nftables rules';
  }
  return undefined;
}

/** Root makes the namespace directly; anyone else through a user namespace mapped to root. */
const userFlags = () => (process.getuid?.() === 0 ? [] : ['--user', '--map-root-user']);

export interface Isolated {
  child: ChildProcess;
  /** Resolves once the command runs inside its namespace (unshare has moved it). */
  entered(): Promise<void>;
  /** Packets the command tried to send off loopback so far, and to where. */
  offLoopback(): Promise<{ packets: number; destinations: string[] }>;
  /**
   * Makes the namespace's loopback ports reachable on this side's 127.0.0.1 at the same numbers (the
   * test, kubectl and the CLI live outside): each connection crosses through a unix socket to a small
   * forwarder that runs inside the namespace and dials its loopback.
   */
  bridge(ports: number[]): Promise<void>;
  /** Runs a bash script inside the namespace (as a user's shell on that machine would): its exit code and output. */
  shell(
    script: string,
    opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
  ): Promise<{ code: number | null; output: string }>;
  /** Pids of processes still inside the namespace (none once the stack has stopped cleanly). */
  leftInside(): number[];
  /** Closes the bridges. */
  close(): Promise<void>;
}

const pipeBoth = (a: Socket, b: Socket) => {
  a.pipe(b);
  b.pipe(a);
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
};

const FORWARDER = `const net = require('node:net');
const [dir, ...ports] = process.argv.slice(1);
for (const p of ports) net.createServer((s) => { const t = net.connect(Number(p), '127.0.0.1'); s.pipe(t); t.pipe(s); s.on('error', () => t.destroy()); t.on('error', () => s.destroy()); }).listen(dir + '/' + p + '.sock');`;

const netnsOf = (pid: number | string) => {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
};

export function spawnIsolated(command: string, args: string[], options: SpawnOptions): Isolated {
  // No --fork: unshare moves itself into the namespace, then the shell execs the command, so the
  // child's pid is the command's and /proc/<pid>/ns/net is the namespace for as long as it runs.
  const child = spawn(
    'unshare',
    [...userFlags(), '--net', 'sh', '-c', SETUP, 'kumo-isolated', command, ...args],
    options,
  );
  const enter = () => [
    '-t',
    String(child.pid),
    ...(userFlags().length ? ['--user', '--preserve-credentials'] : []),
    '--net',
  ];
  const ours = netnsOf('self');
  let theirs: string | undefined;
  const servers: Server[] = [];
  /** Connections the bridges carry now. */
  const open = new Set<Socket>();
  let forwarder: ChildProcess | undefined;
  let dir: string | undefined;
  return {
    child,
    async entered() {
      for (let i = 0; i < 200; i++) {
        const ns = child.pid ? netnsOf(child.pid) : undefined;
        if (ns && ns !== ours) {
          theirs = ns;
          return;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('the isolated command did not enter its network namespace in 5 s');
    },
    async bridge(ports) {
      dir = mkdtempSync(join(tmpdir(), 'kumo-bridge-'));
      const sockDir = dir;
      forwarder = spawn('nsenter', [...enter(), process.execPath, '-e', FORWARDER, sockDir, ...ports.map(String)], {
        stdio: 'ignore',
      });
      for (const port of ports) {
        const server = createServer((c) => {
          open.add(c);
          c.once('close', () => open.delete(c));
          pipeBoth(c, connect(join(sockDir, `${port}.sock`)));
        });
        await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
        servers.push(server);
      }
    },
    shell(script, opts) {
      return new Promise((resolve) => {
        const p = spawn('nsenter', [...enter(), 'bash', '-e', '-o', 'pipefail', '-c', script], {
          cwd: opts.cwd,
          env: opts.env ?? process.env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        p.stdout?.on('data', (d: Buffer) => (output += d.toString()));
        p.stderr?.on('data', (d: Buffer) => (output += d.toString()));
        const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs);
        p.once('close', (code) => {
          clearTimeout(timer);
          resolve({ code, output });
        });
      });
    },
    leftInside() {
      if (!theirs) return [];
      return readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p) && Number(p) !== forwarder?.pid)
        .filter((p) => netnsOf(p) === theirs)
        .map(Number);
    },
    async close() {
      // A client's kept-alive connection (an HTTP agent's) would hold a bridge open forever.
      const closed = Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      for (const c of open) c.destroy();
      await closed;
      if (forwarder) await stopChild(forwarder);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
    async offLoopback() {
      const out = JSON.parse(
        (await run('nsenter', [...enter(), 'nft', '-j', 'list', 'table', 'inet', 'kumo_guard'])).stdout,
      ) as { nftables: Record<string, any>[] };
      let packets = 0;
      const destinations: string[] = [];
      for (const entry of out.nftables) {
        if (entry.counter?.name === 'offbox') packets = entry.counter.packets;
        if (entry.set?.elem)
          destinations.push(
            ...entry.set.elem.map((e: unknown) =>
              typeof e === 'object' && e !== null && 'elem' in e
                ? String((e as { elem: { val: unknown } }).elem.val)
                : String(e),
            ),
          );
      }
      return { packets, destinations };
    },
  };
}
