import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { RouteNotFoundError } from '../shared/api/errors.js';
import { handleApiRequest } from '../shared/api/http/handler.js';
import { fromHttpApiEvent, toHttpApiResult } from '../shared/aws/api-gateway.js';
import { NODE_API_PREFIX } from '../shared/nodes/protocol.js';
import { apiDependencies } from './deps.js';

/** What an agent may ask through its function URL: its two calls, and the ConfigMaps/Secrets its pods' env refers to. */
const AGENT_PATHS = [new RegExp(`^${NODE_API_PREFIX}/[^/]+/(register|sync)$`), /^\/api\/v1\/namespaces\/[^/]+\/(configmaps|secrets)\/[^/]+$/];

/**
 * The node agents' endpoint, served by a Lambda function URL: heartbeats are most of the control
 * plane's steady traffic, and a function URL costs only the Lambda request (no HTTP API fee).
 */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpHeaderNormalizer())
  .handler(async (event) => {
    const req = fromHttpApiEvent(event);
    if (!AGENT_PATHS.some((p) => p.test(req.path))) return toHttpApiResult({ statusCode: 404, headers: { 'content-type': 'application/json' }, body: JSON.stringify(new RouteNotFoundError().toStatus()) });
    return toHttpApiResult(await handleApiRequest(req, apiDependencies()));
  });
