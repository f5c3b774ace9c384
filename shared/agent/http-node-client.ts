import type { KubeObject } from '../model/types.js';
import type { RegisterRequest, RegisterResponse, SyncRequest, SyncResponse } from '../nodes/protocol.js';
import { FENCED_REASON, NODE_API_PREFIX } from '../nodes/wire.js';
import { FencedByControlPlane, type NodeClient } from './node-client.js';
import type { LookupKind } from './env.js';
import type { IssuedToken } from './service-account-token-cache.js';
import type { PodTokenRequest } from './volumes/projection.js';
import { httpCall } from '../util/http-call.js';
import { isPlainObject } from '../model/json.js';

export class ControlPlaneError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const PATHS = {
  ConfigMap: 'configmaps',
  Secret: 'secrets',
  PersistentVolumeClaim: 'persistentvolumeclaims',
  PersistentVolume: 'persistentvolumes',
} as const;

/** The node client over the kumo API (HTTP API on AWS, serverless-offline here). */
export class HttpNodeClient implements NodeClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token?: string,
    private readonly timeoutMs = 10_000,
  ) {}

  register(nodeName: string, req: RegisterRequest): Promise<RegisterResponse> {
    return this.call(
      'POST',
      `${NODE_API_PREFIX}/${encodeURIComponent(nodeName)}/register`,
      req,
    ) as Promise<RegisterResponse>;
  }

  sync(nodeName: string, req: SyncRequest): Promise<SyncResponse> {
    return this.call('POST', `${NODE_API_PREFIX}/${encodeURIComponent(nodeName)}/sync`, req) as Promise<SyncResponse>;
  }

  async get(kind: LookupKind, namespace: string, name: string): Promise<KubeObject | undefined> {
    const where = namespace ? `/api/v1/namespaces/${encodeURIComponent(namespace)}` : '/api/v1';
    try {
      return (await this.call('GET', `${where}/${PATHS[kind]}/${encodeURIComponent(name)}`)) as KubeObject;
    } catch (e) {
      if (e instanceof ControlPlaneError && e.status === 404) return undefined;
      throw e;
    }
  }

  async requestToken(req: PodTokenRequest): Promise<IssuedToken> {
    const path = `/api/v1/namespaces/${encodeURIComponent(req.namespace)}/serviceaccounts/${encodeURIComponent(req.serviceAccount)}/token`;
    const answer = await this.call('POST', path, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: req.audience ? [req.audience] : [],
        expirationSeconds: req.expirationSeconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: req.pod.name, uid: req.pod.uid },
      },
    });
    const status = isPlainObject(answer) && isPlainObject(answer.status) ? answer.status : {};
    const token = status.token;
    const expiresAt = new Date(String(status.expirationTimestamp));
    if (typeof token !== 'string' || Number.isNaN(expiresAt.getTime()))
      throw new ControlPlaneError(502, `POST ${path}: the answer holds no token`);
    return { token, expiresAt };
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await httpCall(method, `${this.baseUrl}${path}`, {
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      timeoutMs: this.timeoutMs,
    });
    const text = res.body;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (res.status >= 200 && res.status < 300) return parsed;
    // A Status from the control plane; anything else (a proxy's page) is reported by its text.
    const reason = isPlainObject(parsed) ? parsed.reason : undefined;
    const message = isPlainObject(parsed) && typeof parsed.message === 'string' ? parsed.message : undefined;
    if (res.status === 409 && reason === FENCED_REASON) throw new FencedByControlPlane(message ?? 'fenced');
    throw new ControlPlaneError(res.status, `${method} ${path}: ${res.status} ${message ?? text.slice(0, 200)}`);
  }
}
