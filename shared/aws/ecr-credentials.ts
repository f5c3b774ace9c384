import type { RegistryAuth } from '../agent/runtime/runtime.js';
import type { AwsJsonClient } from './lite/json-client.js';

/**
 * Private ECR images pull with the node's own IAM role, with no credentials in any manifest: kubelet's
 * ECR credential provider (cloud-provider-aws, ecr-credential-provider) in the agent. An image whose
 * registry is an ECR registry gets a GetAuthorizationToken token of that registry's region, signed
 * with the node's role through the lite client and kept until shortly before it expires (12 h).
 */

/**
 * The registry hosts served: cloud-provider-aws's pattern narrowed to the commercial partition's
 * non-FIPS endpoints, the only ECR API the lite client calls (`api.ecr.<region>.amazonaws.com`).
 */
const ECR_HOST = /^(\d{12})\.dkr\.ecr\.()([a-z0-9][a-z0-9-]*)\.amazonaws\.com$/;
/** Renew this long before the token expires, so a pull never starts with a token about to lapse. */
const RENEW_BEFORE_MS = 15 * 60_000;

interface AuthorizationData {
  authorizationToken?: string;
  expiresAt?: number;
  proxyEndpoint?: string;
}

export class EcrCredentials {
  private readonly cache = new Map<string, { auth: RegistryAuth; until: number }>();
  private readonly inFlight = new Map<string, Promise<RegistryAuth>>();
  /** GetAuthorizationToken calls made, for the tests. */
  calls = 0;

  constructor(
    /** A client for ECR's API in a region. */
    private readonly clientFor: (region: string) => AwsJsonClient,
    private readonly now: () => number,
  ) {}

  /** Credentials for the image's registry when it is an ECR registry; none otherwise. */
  async forImage(image: string): Promise<RegistryAuth[]> {
    const host = image.includes('/') ? (image.split('/')[0] ?? '') : '';
    const m = ECR_HOST.exec(host);
    const region = m?.[3];
    if (!region) return [];
    const cached = this.cache.get(host);
    if (cached && cached.until > this.now()) return [cached.auth];
    let pending = this.inFlight.get(host);
    if (!pending) {
      pending = this.fetch(host, region).finally(() => this.inFlight.delete(host));
      this.inFlight.set(host, pending);
    }
    return [await pending];
  }

  private async fetch(host: string, region: string): Promise<RegistryAuth> {
    this.calls++;
    const out = await this.clientFor(region).call<{ authorizationData?: AuthorizationData[] }>(
      'GetAuthorizationToken',
      {},
    );
    const data = out.authorizationData?.[0];
    const decoded = Buffer.from(data?.authorizationToken ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new Error('ECR GetAuthorizationToken answered without a token');
    const auth: RegistryAuth = {
      serveraddress: host,
      username: decoded.slice(0, colon),
      password: decoded.slice(colon + 1),
    };
    const expiresMs = (data?.expiresAt ?? 0) * 1000;
    this.cache.set(host, { auth, until: expiresMs - RENEW_BEFORE_MS });
    return auth;
  }
}
