import { randomUUID } from 'node:crypto';
import {
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  importPKCS8,
  jwtVerify,
  SignJWT,
  type CryptoKey,
} from 'jose';
import type { Clock } from '../util/clock.js';
import type { SigningKeyStore } from './signing-key-store.js';

/**
 * ServiceAccount tokens as Kubernetes' TokenRequest issues them (pkg/serviceaccount/claims.go): JWTs
 * signed with the cluster's key, carrying the account (and the pod they are bound to) under
 * `kubernetes.io`, an audience and an expiry. The API verifies the signature with the key it holds, so
 * a token costs no read to check; only whether its account and pod still exist is looked up (and cached,
 * Authenticator). ES256 with a key made at first use (a P-256 key; Kubernetes accepts RSA and ECDSA keys).
 */

/** kube-apiserver's default --service-account-issuer, and so the audience its tokens carry by default. */
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const API_AUDIENCES = [SERVICE_ACCOUNT_ISSUER];
const ALG = 'ES256';

export interface ServiceAccountTokenClaims {
  namespace: string;
  serviceAccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
}

export interface IssuedServiceAccountToken {
  token: string;
  expiresAt: Date;
}

/** The `kubernetes.io` claim and the user name a ServiceAccount token stands for. */
export const serviceAccountUserName = (namespace: string, name: string) => `system:serviceaccount:${namespace}:${name}`;

export class ServiceAccountTokens {
  private key?: Promise<{ private: CryptoKey; public: CryptoKey; kid: string }>;

  constructor(
    private readonly keys: SigningKeyStore,
    private readonly clock: Clock,
  ) {}

  async issue(
    claims: ServiceAccountTokenClaims,
    audiences: string[],
    expirationSeconds: number,
  ): Promise<IssuedServiceAccountToken> {
    const key = await this.signingKey();
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const exp = now + expirationSeconds;
    const token = await new SignJWT({
      'kubernetes.io': {
        namespace: claims.namespace,
        serviceaccount: claims.serviceAccount,
        ...(claims.pod ? { pod: claims.pod } : {}),
      },
    })
      .setProtectedHeader({ alg: ALG, kid: key.kid })
      .setIssuer(SERVICE_ACCOUNT_ISSUER)
      .setSubject(serviceAccountUserName(claims.namespace, claims.serviceAccount.name))
      .setAudience(audiences)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(key.private);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /** The claims of a token this cluster signed, unexpired and meant for one of `audiences`; else undefined. */
  async verify(token: string, audiences: string[]): Promise<ServiceAccountTokenClaims | undefined> {
    let key;
    try {
      key = await this.signingKey();
    } catch {
      return undefined; // no key could be read or made: no token of ours can be valid
    }
    try {
      const { payload } = await jwtVerify(token, key.public, {
        algorithms: [ALG],
        issuer: SERVICE_ACCOUNT_ISSUER,
        audience: audiences,
        currentDate: this.clock.now(),
      });
      const k = payload['kubernetes.io'];
      if (!k || typeof k !== 'object') return undefined;
      const { namespace, serviceaccount, pod } = k as Record<string, unknown>;
      const ref = (v: unknown) => {
        const o = v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
        return typeof o.name === 'string' ? { name: o.name, uid: typeof o.uid === 'string' ? o.uid : '' } : undefined;
      };
      const sa = ref(serviceaccount);
      if (typeof namespace !== 'string' || !sa) return undefined;
      if (payload.sub !== serviceAccountUserName(namespace, sa.name)) return undefined;
      const boundPod = ref(pod);
      return { namespace, serviceAccount: sa, ...(boundPod ? { pod: boundPod } : {}) };
    } catch {
      return undefined; // a bad signature, an expired token, another issuer or audience
    }
  }

  /** The cluster's key: read once per container, made (and stored) by the first container that finds none. */
  private signingKey() {
    this.key ??= (async () => {
      let pem = await this.keys.get();
      if (!pem) {
        const pair = await generateKeyPair(ALG, { extractable: true });
        const fresh = await exportPKCS8(pair.privateKey);
        pem = (await this.keys.putIfAbsent(fresh)) ? fresh : await this.keys.get();
        if (!pem) throw new Error('the service account signing key could be neither stored nor read');
      }
      const priv = await importPKCS8(pem, ALG, { extractable: true });
      const jwk = await exportJWK(priv);
      const { d: _d, ...publicJwk } = jwk;
      const pub = (await importJWK({ ...publicJwk, alg: ALG }, ALG)) as CryptoKey;
      return { private: priv, public: pub, kid: await calculateJwkThumbprint(publicJwk) };
    })().catch((e: unknown) => {
      this.key = undefined; // a later request tries again
      throw e;
    });
    return this.key;
  }
}
