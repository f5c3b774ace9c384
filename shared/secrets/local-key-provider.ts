import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataKeyProvider } from './sealer.js';

/** Offline: data keys wrapped with AES-256-GCM under a local master key (npm start keeps it in .kumo/secrets.key). */
export class LocalKeyProvider implements DataKeyProvider {
  readonly name = 'local';

  constructor(private readonly masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error('the local secrets key must be 32 bytes (base64 in KUMO_SECRETS_KEY)');
  }

  newDataKey(): Promise<{ plaintext: Buffer; wrapped: string }> {
    const plaintext = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.masterKey, iv);
    const wrapped = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]).toString(
      'base64url',
    );
    return Promise.resolve({ plaintext, wrapped });
  }

  unwrap(wrapped: string): Promise<Buffer> {
    const bytes = Buffer.from(wrapped, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.masterKey, bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Promise.resolve(Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]));
  }
}
