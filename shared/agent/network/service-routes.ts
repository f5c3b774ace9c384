import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The service range as local addresses of this node: `ip route replace local <range> dev lo table
 * local`. Every packet to a service address is then delivered to this host (where the proxy and the
 * DNS listen) and none can leave it, whether or not a listener exists (no listener: TCP reset). Inside
 * 127.0.0.0/8 the range is local already. Needs CAP_NET_ADMIN.
 */
export async function routeServiceRange(cidr: string): Promise<void> {
  if (cidr.startsWith('127.')) return;
  await run('ip', ['-4', 'route', 'replace', 'local', cidr, 'dev', 'lo', 'table', 'local']);
}

/** The route as the kernel holds it (tests check it exists before any packet is sent), or undefined. */
export async function serviceRangeRoute(cidr: string): Promise<string | undefined> {
  const { stdout } = await run('ip', ['-4', 'route', 'show', 'table', 'local', 'type', 'local', 'exact', cidr]);
  return stdout.trim() || undefined;
}
