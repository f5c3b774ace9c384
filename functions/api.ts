import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handleApiRequest } from '../shared/apiserver/http/handler.js';
import { fromHttpApiEvent, toHttpApiResult } from '../shared/apiserver/http/api-gateway.js';
import { apiDependencies } from './deps.js';

/** The Kubernetes-shaped REST API (kube-apiserver's role), behind an HTTP API catch-all route. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpHeaderNormalizer())
  .handler(async (event) => toHttpApiResult(await handleApiRequest(fromHttpApiEvent(event), apiDependencies())));
