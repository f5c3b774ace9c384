import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcrCredentials } from '../../../shared/aws/ecr-credentials.js';
import { AwsJsonClient } from '../../../shared/aws/lite/json-client.js';

/**
 * ECR cannot be reached from here: a loopback stand-in for its API checks the request's shape (target,
 * content type, a SigV4 signature for service `ecr` in the image's region) and answers as ECR does.
 */
const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
let url = '';
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    seen.push({ headers: req.headers, body });
    res.setHeader('content-type', 'application/x-amz-json-1.1');
    res.end(
      JSON.stringify({
        authorizationData: [
          {
            authorizationToken: Buffer.from(`AWS:token-${seen.length}`).toString('base64'),
            expiresAt: 1_800_000_000 + 12 * 3600,
            proxyEndpoint: 'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com',
          },
        ],
      }),
    );
  });
});
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('ECR credentials from the node role', () => {
  it('signs GetAuthorizationToken for the image region, caches the token until shortly before it expires', async () => {
    let now = 1_800_000_000_000;
    const regions: string[] = [];
    const ecr = new EcrCredentials(
      (region) => (
        regions.push(region),
        new AwsJsonClient(
          'ecr',
          region,
          async () => ({ accessKeyId: 'AKIDNODE', secretAccessKey: 'secret', sessionToken: 'role-session' }),
          url,
        )
      ),
      () => now,
    );
    const image = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web:1.4';
    expect(await ecr.forImage(image)).toEqual([
      { serveraddress: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', username: 'AWS', password: 'token-1' },
    ]);
    expect(regions).toEqual(['eu-west-1']);
    const h = seen[0]?.headers ?? {};
    expect(h['x-amz-target']).toBe('AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken');
    expect(h['content-type']).toBe('application/x-amz-json-1.1');
    expect(h.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDNODE\/\d{8}\/eu-west-1\/ecr\/aws4_request, SignedHeaders=[^,]*x-amz-security-token[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(h['x-amz-security-token']).toBe('role-session');
    expect(seen[0]?.body).toBe('{}');
    // Cached: the next pull asks nothing, until 15 minutes before the 12 hours are up.
    await ecr.forImage(image);
    expect(ecr.calls).toBe(1);
    now += 11.8 * 3600_000;
    expect((await ecr.forImage(image))[0]?.password).toBe('token-2');
    expect(ecr.calls).toBe(2);
  });

  it('has nothing for images outside ECR, and asks nothing for them', async () => {
    const ecr = new EcrCredentials(
      () => {
        throw new Error('no client should be made');
      },
      () => 0,
    );
    expect(await ecr.forImage('busybox:1.36')).toEqual([]);
    expect(await ecr.forImage('ghcr.io/org/app:1')).toEqual([]);
    expect(await ecr.forImage('123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.io/x')).toEqual([]);
    expect(ecr.calls).toBe(0);
  });
});
