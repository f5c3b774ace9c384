import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ApiRequest, ApiResponse } from './request.js';

/** Translates API Gateway HTTP API (payload 2.0) events to the transport-neutral request, and back. */
export function fromHttpApiEvent(event: APIGatewayProxyEventV2): ApiRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
  // serverless-offline sends null for an empty body, API Gateway omits it.
  const bytes =
    event.body === undefined || event.body === null
      ? undefined
      : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  const body = bytes?.toString('utf8');
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query: new URLSearchParams(event.rawQueryString ?? ''),
    headers,
    body,
    bodyBytes: bytes,
    sourceIp: event.requestContext.http.sourceIp,
  };
}

export function toHttpApiResult(res: ApiResponse): APIGatewayProxyStructuredResultV2 {
  return { statusCode: res.statusCode, headers: res.headers, body: res.body, isBase64Encoded: false };
}
