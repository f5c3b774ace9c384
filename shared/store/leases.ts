/**
 * Node leases: one small item per node that its agent renews (kubelet's Lease in kube-node-lease).
 * The epoch fences a node: it changes when a new agent registers or when the control plane declares
 * the node dead, and every renewal must name the current epoch, so a returning agent cannot
 * overwrite what happened while it was away.
 */
export interface Lease {
  nodeName: string;
  epoch: number;
  /** When the holder last renewed (ms since the epoch). */
  renewedAtMs: number;
  /** Which agent process holds it (host and pid): for humans reading the table. */
  holder: string;
  /** Set by the control plane when it fenced the node because the lease ran out. */
  expired: boolean;
}

export interface LeaseStore {
  /** Takes the lease for a (re)starting agent: a new epoch, renewed now. */
  acquire(nodeName: string, holder: string, nowMs: number): Promise<Lease>;
  /** Renews if `epoch` is still current; otherwise returns undefined (the caller is fenced). */
  renew(nodeName: string, epoch: number, nowMs: number): Promise<Lease | undefined>;
  get(nodeName: string): Promise<Lease | undefined>;
  list(): Promise<Lease[]>;
  /**
   * Fences a node whose lease ran out: a new epoch, only if the lease is still at `epoch` and was not
   * renewed since `renewedAtMs`. True when this call fenced it.
   */
  expire(nodeName: string, epoch: number, renewedAtMs: number): Promise<boolean>;
  remove(nodeName: string): Promise<void>;
}
