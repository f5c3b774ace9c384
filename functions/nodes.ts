import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { RouteNotFoundError } from '../shared/model/errors.js';
import { handleApiRequest } from '../shared/apiserver/http/handler.js';
import { fromHttpApiEvent, toHttpApiResult } from '../shared/apiserver/http/api-gateway.js';
import { isAgentPath } from '../shared/nodes/wire.js';
import { apiDependencies } from './deps.js';

/**
 * The node agents' endpoint, served by a Lambda function URL: heartbeats are most of the control
 * plane's steady traffic, and a function URL costs only the Lambda request (no HTTP API fee).
 */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpHeaderNormalizer())
  .handler(async (event) => {
    const req = fromHttpApiEvent(event);
    if (!isAgentPath(req.path))
      return toHttpApiResult({
        statusCode: 404,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(new RouteNotFoundError().toStatus()),
      });
    return toHttpApiResult(await handleApiRequest(req, apiDependencies()));
  });
