import type { KubeObject } from '../model/types.js';
import type { LookupKind } from './env.js';
import type { IssuedToken } from './service-account-token-cache.js';
import type { PodTokenRequest } from './volumes/projection.js';
import type { RegisterRequest, RegisterResponse, SyncRequest, SyncResponse } from '../nodes/protocol.js';

/**
 * The agent's one narrow interface to the control plane. The agent's logic never sees the transport
 * (HTTP to the API today; anything that carries these calls tomorrow).
 */
export interface NodeClient {
  register(nodeName: string, req: RegisterRequest): Promise<RegisterResponse>;
  /** Throws FencedByControlPlane when the epoch is no longer current. */
  sync(nodeName: string, req: SyncRequest): Promise<SyncResponse>;
  /** A ConfigMap, Secret or claim a pod refers to, or the volume its claim is bound to ("" namespace); undefined when absent. */
  get(kind: LookupKind, namespace: string, name: string): Promise<KubeObject | undefined>;
  /** A token of one of its pods' ServiceAccount, bound to that pod (TokenRequest, as kubelet asks it). */
  requestToken(req: PodTokenRequest): Promise<IssuedToken>;
}

/** The control plane declared this node dead (or another agent took it over): stop everything, register again. */
export class FencedByControlPlane extends Error {}

/**
 * Push wake-ups: resolves true when nudged, false when `maxWaitMs` passed quietly (or on abort).
 * Implementations long-poll (one request per 20 s when idle), never spin.
 */
export interface WakeSource {
  wait(maxWaitMs: number, signal: AbortSignal): Promise<boolean>;
}
