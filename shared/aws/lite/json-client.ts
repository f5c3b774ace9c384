import { httpCall } from '../../util/http-call.js';
import { signV4, type Credentials } from './sigv4.js';

export class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The AWS JSON APIs spoken without the SDK: SQS, CloudWatch Logs and ECR (the agent), KMS (Secret envelope keys). */
export const SERVICES = {
  sqs: { signingName: 'sqs', targetPrefix: 'AmazonSQS', contentType: 'application/x-amz-json-1.0' },
  logs: { signingName: 'logs', targetPrefix: 'Logs_20140328', contentType: 'application/x-amz-json-1.1' },
  kms: { signingName: 'kms', targetPrefix: 'TrentService', contentType: 'application/x-amz-json-1.1' },
  ecr: {
    signingName: 'ecr',
    targetPrefix: 'AmazonEC2ContainerRegistry_V20150921',
    contentType: 'application/x-amz-json-1.1',
    host: 'api.ecr',
  },
} as const;

/**
 * One signed call to an AWS JSON-protocol API: what the agent needs of AWS without the SDK's memory
 * (see http.ts). `endpoint` overrides the regional one (the SQS emulator offline).
 */
export class AwsJsonClient {
  constructor(
    private readonly service: keyof typeof SERVICES,
    private readonly region: string,
    private readonly credentials: () => Promise<Credentials>,
    private readonly endpoint?: string,
  ) {}

  async call<T>(action: string, input: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
    const s = SERVICES[this.service];
    const host = 'host' in s ? s.host : this.service;
    const url = (this.endpoint ?? `https://${host}.${this.region}.amazonaws.com`).replace(/\/?$/, '/');
    const body = JSON.stringify(input);
    const headers = signV4(
      {
        method: 'POST',
        url,
        headers: {
          host: new URL(url).host,
          'content-type': s.contentType,
          'x-amz-target': `${s.targetPrefix}.${action}`,
        },
        body,
      },
      await this.credentials(),
      this.region,
      s.signingName,
    );
    const res = await httpCall('POST', url, { headers, body, timeoutMs });
    const parsed = res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {};
    if (res.status >= 300) {
      const code =
        String(parsed.__type ?? parsed.code ?? res.status)
          .split('#')
          .pop() ?? '';
      throw new AwsError(
        res.status,
        code,
        `${s.targetPrefix}.${action}: ${code}: ${String(parsed.message ?? parsed.Message ?? res.body.slice(0, 200))}`,
      );
    }
    return parsed as T;
  }
}
