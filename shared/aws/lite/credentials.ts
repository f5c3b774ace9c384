import { httpCall } from '../../util/http-call.js';
import type { Credentials } from './sigv4.js';

/** Where credentials may come from, in the AWS SDK's order for what an agent host offers. */
export interface CredentialSources {
  /** AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (also what Lambda sets). */
  env?: Partial<Credentials>;
  /** AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on ECS and Fargate. */
  ecsRelativeUri?: string;
  /** Try the EC2 instance profile through IMDSv2. */
  imds?: boolean;
}

interface Cached {
  creds: Credentials;
  expiresAt: number;
}

const IMDS = 'http://169.254.169.254/latest';
const REFRESH_BEFORE_MS = 5 * 60_000;

/** A cached credential provider: static keys, then the ECS task role, then the EC2 instance profile. */
export function credentialProvider(src: CredentialSources): () => Promise<Credentials> {
  let cached: Cached | undefined;
  return async () => {
    if (src.env?.accessKeyId && src.env.secretAccessKey)
      return {
        accessKeyId: src.env.accessKeyId,
        secretAccessKey: src.env.secretAccessKey,
        sessionToken: src.env.sessionToken,
      };
    if (cached && cached.expiresAt - REFRESH_BEFORE_MS > Date.now()) return cached.creds;
    let body: { AccessKeyId?: string; SecretAccessKey?: string; Token?: string; Expiration?: string } | undefined;
    if (src.ecsRelativeUri) {
      const res = await httpCall('GET', `http://169.254.170.2${src.ecsRelativeUri}`, { timeoutMs: 2000 });
      if (res.status === 200) body = JSON.parse(res.body);
    } else if (src.imds) {
      const token = await httpCall('PUT', `${IMDS}/api/token`, {
        headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '300' },
        timeoutMs: 1000,
      });
      const h = { 'x-aws-ec2-metadata-token': token.body };
      const role = (
        await httpCall('GET', `${IMDS}/meta-data/iam/security-credentials/`, { headers: h, timeoutMs: 1000 })
      ).body.split('\n')[0];
      if (role)
        body = JSON.parse(
          (await httpCall('GET', `${IMDS}/meta-data/iam/security-credentials/${role}`, { headers: h, timeoutMs: 1000 }))
            .body,
        );
    }
    if (!body?.AccessKeyId || !body.SecretAccessKey)
      throw new Error(
        'no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with an ECS task role or an EC2 instance profile',
      );
    cached = {
      creds: { accessKeyId: body.AccessKeyId, secretAccessKey: body.SecretAccessKey, sessionToken: body.Token },
      expiresAt: body.Expiration ? Date.parse(body.Expiration) : Date.now() + 3600_000,
    };
    return cached.creds;
  };
}
