import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Clock } from '../util/clock.js';

/**
 * Where data keys come from: KMS on AWS (GenerateDataKey/Decrypt), a local master key offline.
 * `wrapped` is the data key encrypted under the master key; only the provider can unwrap it.
 */
export interface DataKeyProvider {
  readonly name: string;
  newDataKey(): Promise<{ plaintext: Buffer; wrapped: string }>;
  unwrap(wrapped: string): Promise<Buffer>;
}

/** A data key encrypts many values for a short while (as the AWS Encryption SDK's key cache does), so a write rarely calls KMS. */
const DATA_KEY_LIFETIME_MS = 5 * 60_000;
const DATA_KEY_USES = 10_000;
const UNWRAPPED_CACHE = 1_000;

/**
 * Envelope encryption of Secret values: AES-256-GCM under a data key, the data key wrapped by the
 * provider. The sealed form is `v1.<wrapped key>.<iv>.<ciphertext+tag>` (base64url). `context` (the
 * object's kind/namespace/name) is authenticated, so a sealed value cannot be moved to another Secret.
 */
export class SecretSealer {
  private current?: { plaintext: Buffer; wrapped: string; until: number; uses: number };
  private readonly unwrapped = new Map<string, Buffer>();

  constructor(
    private readonly provider: DataKeyProvider,
    private readonly clock: Clock,
  ) {}

  async seal(plaintext: string, context: string): Promise<string> {
    const key = await this.dataKey();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.plaintext, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return ['v1', key.wrapped, iv.toString('base64url'), body.toString('base64url')].join('.');
  }

  async open(sealed: string, context: string): Promise<string> {
    const [version, wrapped, iv, body] = sealed.split('.');
    if (version !== 'v1' || !wrapped || !iv || !body) throw new Error('a sealed Secret value is malformed');
    const key = await this.unwrap(wrapped);
    const bytes = Buffer.from(body, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString('utf8');
  }

  private async dataKey() {
    const now = this.clock.now().getTime();
    if (!this.current || this.current.until <= now || this.current.uses >= DATA_KEY_USES) {
      const k = await this.provider.newDataKey();
      this.current = { ...k, until: now + DATA_KEY_LIFETIME_MS, uses: 0 };
      this.remember(k.wrapped, k.plaintext);
    }
    this.current.uses++;
    return this.current;
  }

  private async unwrap(wrapped: string): Promise<Buffer> {
    const hit = this.unwrapped.get(wrapped);
    if (hit) return hit;
    const key = await this.provider.unwrap(wrapped);
    this.remember(wrapped, key);
    return key;
  }

  private remember(wrapped: string, key: Buffer) {
    if (this.unwrapped.size >= UNWRAPPED_CACHE) this.unwrapped.clear();
    this.unwrapped.set(wrapped, key);
  }
}
