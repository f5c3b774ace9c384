import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** /sys/class/net/<dev>/addr_assign_type: the address was set by the user (NET_ADDR_SET). */
const NET_ADDR_SET = '3';

const sysfs = (dev: string, file: string): string | undefined => {
  try {
    return readFileSync(`/sys/class/net/${dev}/${file}`, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/**
 * Pins the MAC address of the bridge that holds a pod network's gateway. A Linux bridge without an
 * address of its own takes the lowest MAC among its ports, so removing one pod's veth can change it:
 * every other pod's ARP entry for the gateway then names a MAC no longer there, and the pods' traffic
 * to the node (cluster DNS, cluster IPs, node ports, egress) is lost for 30–100 s, until ARP gives the
 * entry up. Docker and the CNI bridge plugin set the bridge's address; netavark before 1.9 (Debian
 * bookworm's 1.4) does not (containers/netavark#833 fixed it the same way). The bridge's current MAC
 * is set as its own: from then on the kernel keeps it, and no cached entry is disturbed.
 *
 * Checked at each sandbox (the engine may delete the bridge with its last pod and make a new one);
 * a known bridge that is pinned costs a sysfs read, no process.
 */
export class BridgePins {
  /** Gateway → its bridge device, or null: no bridge of this host holds it (rootless engines) or pinning failed. */
  private readonly devs = new Map<string, string | null>();

  constructor(private readonly log?: (msg: string) => void) {}

  /** One check at a time per gateway: sandboxes start side by side. */
  private readonly checking = new Map<string, Promise<void>>();

  ensure(gateway: string): Promise<void> {
    const prior = this.checking.get(gateway) ?? Promise.resolve();
    const next = prior.then(() => this.check(gateway));
    this.checking.set(gateway, next);
    void next.finally(() => this.checking.get(gateway) === next && this.checking.delete(gateway));
    return next;
  }

  private async check(gateway: string): Promise<void> {
    const known = this.devs.get(gateway);
    if (known === null || (known && sysfs(known, 'addr_assign_type') === NET_ADDR_SET)) return;
    try {
      const dev = await bridgeHolding(gateway);
      this.devs.set(gateway, dev ?? null);
      if (!dev || sysfs(dev, 'addr_assign_type') === NET_ADDR_SET) return;
      const mac = sysfs(dev, 'address');
      if (!mac) return;
      await run('ip', ['link', 'set', 'dev', dev, 'address', mac]);
      this.log?.(
        `pinned the pod bridge ${dev}'s MAC address ${mac} (it followed its ports: pods lost the node when one left)`,
      );
    } catch (e) {
      this.devs.set(gateway, null);
      this.log?.(`cannot pin the MAC address of the pod bridge holding ${gateway}: ${(e as Error).message}`);
    }
  }
}

async function bridgeHolding(gateway: string): Promise<string | undefined> {
  const { stdout } = await run('ip', ['-j', '-4', 'addr', 'show', 'to', `${gateway}/32`]);
  const parsed: unknown = JSON.parse(stdout || '[]');
  const devs = (Array.isArray(parsed) ? parsed : []).map((l: unknown) =>
    l && typeof l === 'object' && 'ifname' in l && typeof l.ifname === 'string' ? l.ifname : '',
  );
  return devs.find((d) => /^[\w.-]+$/.test(d) && sysfs(d, 'bridge/bridge_id') !== undefined);
}
