import { inject } from 'vitest';
import { serveLambda } from '../../local/lambda-http.js';
import { freshStack, type TestStack } from './stack.js';

export interface TestApi {
  url: string;
  stack: TestStack;
  close(): Promise<void>;
  /** fetch relative to the API, JSON in and out unless told otherwise (a string or bytes are sent as they are). */
  call(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<{ status: number; body: any; headers: Headers }>;
}

/**
 * The real Lambda handler (functions/api.ts, middy and all) over HTTP, on a fresh table. The handler
 * reads its configuration from the environment exactly as on AWS; each test file runs in its own worker.
 */
export async function startApi(): Promise<TestApi> {
  const stack = await freshStack();
  process.env.KUMO_TABLE = stack.tableName;
  process.env.KUMO_DYNAMODB_ENDPOINT = inject('dynamoEndpoint');
  // Tokenless requests from loopback act as cluster-admin, as under `npm start`; tokens are still checked when sent.
  process.env.KUMO_AUTH_MODE ??= 'dev-loopback';
  const { handler } = await import('../../functions/api.js');
  const server = await serveLambda(handler);
  const call: TestApi['call'] = async (method, path, body, contentType = 'application/json') => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': contentType },
      body:
        body === undefined
          ? undefined
          : typeof body === 'string' || body instanceof Uint8Array
            ? body
            : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return { url: server.url, stack, close: server.close, call };
}
