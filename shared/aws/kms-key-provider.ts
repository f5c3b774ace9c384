import type { AwsJsonClient } from './lite/json-client.js';
import type { DataKeyProvider } from '../secrets/sealer.js';

/** On AWS: data keys from KMS (GenerateDataKey), unwrapped with KMS Decrypt; the master key never leaves KMS. */
export class KmsKeyProvider implements DataKeyProvider {
  readonly name = 'kms';

  constructor(
    private readonly kms: AwsJsonClient,
    private readonly keyId: string,
    /** Bound into every wrapped key (KMS encryption context), e.g. the stage's table name. */
    private readonly context: Record<string, string>,
  ) {}

  async newDataKey(): Promise<{ plaintext: Buffer; wrapped: string }> {
    const out = await this.kms.call<{ Plaintext: string; CiphertextBlob: string }>('GenerateDataKey', {
      KeyId: this.keyId,
      KeySpec: 'AES_256',
      EncryptionContext: this.context,
    });
    return {
      plaintext: Buffer.from(out.Plaintext, 'base64'),
      wrapped: Buffer.from(out.CiphertextBlob, 'base64').toString('base64url'),
    };
  }

  async unwrap(wrapped: string): Promise<Buffer> {
    const out = await this.kms.call<{ Plaintext: string }>('Decrypt', {
      CiphertextBlob: Buffer.from(wrapped, 'base64url').toString('base64'),
      EncryptionContext: this.context,
      KeyId: this.keyId,
    });
    return Buffer.from(out.Plaintext, 'base64');
  }
}
