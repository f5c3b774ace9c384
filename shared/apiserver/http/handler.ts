import type { DeleteOptions, UpdateMode } from '../../model/object-api.js';
import type { Clock } from '../../util/clock.js';
import { applyStatusCode, type BulkApplier } from '../bulk-apply.js';
import {
  BadRequestError,
  RouteNotFoundError,
  StatusError,
  StorageFailedError,
  StorageUnavailableError,
} from '../../model/errors.js';
import { isPlainObject } from '../../model/json.js';
import type { ObjectService } from '../object-service.js';
import { applyPatch, patchTypeOf } from '../patch.js';
import type { ResourceType } from '../../model/kinds.js';
import type { NodeService } from '../node-service.js';
import type { Gate } from '../gate.js';
import { RBAC_GROUP } from '../../model/rbac.js';
import { review } from '../access-reviews.js';
import { requestToken } from '../token-request.js';
import type { Principal } from '../../auth/principal.js';
import type { TokenService } from '../../auth/token-service.js';
import type { LogStore } from '../../logs/log-store.js';
import { podLog } from './pod-log.js';
import { FieldRules } from './field-rules.js';
import { decodeBody, decodeDocuments, encode, encodingFor, mediaTypeOf, jsonBody } from './codec.js';
import { decodeProtobufObject, PROTOBUF_MEDIA_TYPE } from './protobuf.js';
import type { MetricsApi } from '../metrics-api.js';
import { viaStorageVersion } from './version-view.js';
import { aggregatedDiscovery, discoveryContentType, negotiatedDiscovery } from './aggregated-discovery.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import { openApiGroupVersion, openApiRoot } from './openapi.js';
import { TABLE_CONTENT_TYPE, toTable, wantsTable } from './tables.js';
import type { ApiRequest, ApiResponse } from './request.js';
import { methodNotAllowed, route, type Route } from './routes.js';
import { replicasFromScale, scaleOf } from '../../model/scale.js';
import { checkListOptions } from './list-options.js';
import { queryBool } from './query.js';

export interface ApiDeps {
  service: ObjectService;
  clock: Clock;
  bulk: BulkApplier;
  /** Where agents put container logs (absent: the log endpoint says logs are not available). */
  logs?: LogStore;
  /** The node agents' protocol (absent where no agents are served). */
  nodes?: NodeService;
  /** Authentication, limits and authorization: every request passes through it. */
  gate: Gate;
  /** Issues node credentials for bootstrap tokens. */
  tokens: TokenService;
  /** Where unexpected errors are reported (never to the client). */
  logError: (message: string, error: unknown) => void;
  /** metrics.k8s.io (absent: the API answers 503, as the kube-apiserver does while metrics-server is down). */
  metrics?: MetricsApi;
  /** pods/binding: places a pod on a node with the node's capacity ledger, as the scheduler does. */
  bind: (namespace: string, name: string, binding: unknown) => Promise<unknown>;
}

interface Reply {
  code: number;
  value: unknown;
  /** Set when the answer is not the negotiated JSON/YAML encoding of `value`. */
  contentType?: string;
  /** A body already encoded (a watch's newline-delimited events). */
  raw?: string;
}

const ok = (value: unknown, code = 200): Reply => ({ code, value });
const typed = (value: unknown, contentType: string): Reply => ({ code: 200, value, contentType });

/** Subresources kubectl knows but an API behind API Gateway cannot serve (they need a streaming upgrade). */
const STREAMING_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'proxy']);

export async function handleApiRequest(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  const encoding = encodingFor(req.headers.accept);
  try {
    // Authenticate before anything else: an anonymous caller learns nothing, not even which paths exist.
    const principal = await deps.gate.admit(req);
    const fields = new FieldRules(req.query.get('fieldValidation'));
    // An unknown path is authorized as a non-resource path first, so only those allowed to look learn it is unknown.
    let r: Route | undefined;
    let unknown: unknown;
    try {
      r = route(req.path);
    } catch (e) {
      unknown = e;
    }
    await deps.gate.authorize(principal, r, req);
    if (!r) throw unknown;
    const writesRbac =
      req.method !== 'GET' &&
      (r.kind === 'bulkApply' || ((r.kind === 'collection' || r.kind === 'object') && r.type.group === RBAC_GROUP));
    let reply: Reply;
    try {
      reply = await dispatch(req, r, deps, principal, fields);
    } finally {
      // Whatever became of it, this container's next decision reads RBAC objects afresh.
      if (writesRbac) deps.gate.rbac.invalidate();
    }
    const warning = fields.warningHeader();
    if (reply.raw !== undefined)
      return {
        statusCode: reply.code,
        headers: { 'content-type': reply.contentType ?? 'application/json' },
        body: reply.raw,
      };
    if (reply.contentType)
      return {
        statusCode: reply.code,
        headers: { 'content-type': reply.contentType },
        body: jsonBody(reply.value),
      };
    const { body, contentType } = encode(reply.value, encoding);
    return { statusCode: reply.code, headers: { 'content-type': contentType, ...(warning ? { warning } : {}) }, body };
  } catch (e) {
    const err = e instanceof StatusError ? e : internalError(e, deps);
    // A store failure the store classified (500, 503) is still the operator's to see.
    if (e instanceof StorageFailedError || e instanceof StorageUnavailableError)
      deps.logError(`${req.method} ${req.path}: ${e.message}`, e);
    const { body, contentType } = encode(err.toStatus(), encoding);
    const retry = err.details?.retryAfterSeconds;
    return {
      statusCode: err.code,
      headers: { 'content-type': contentType, ...(retry ? { 'retry-after': String(retry) } : {}) },
      body,
    };
  }
}

function internalError(e: unknown, deps: ApiDeps): StatusError {
  deps.logError('unexpected error while serving a request', e);
  return new StatusError(
    500,
    'InternalError',
    'Internal error occurred: the server could not complete the request; see the control-plane logs',
    {},
  );
}

async function dispatch(
  req: ApiRequest,
  r: Route,
  deps: ApiDeps,
  principal: Principal,
  fields: FieldRules,
): Promise<Reply> {
  const m = req.method.toUpperCase();
  const readOnly = (value: () => unknown): Reply => {
    if (m !== 'GET') throw methodNotAllowed(m, req.path);
    return ok(value());
  };
  switch (r.kind) {
    case 'version':
      return readOnly(versionInfo);
    case 'health':
      return readOnly(() => 'ok');
    case 'apiVersions':
    case 'apiGroups': {
      if (m !== 'GET') throw methodNotAllowed(m, req.path);
      const v = negotiatedDiscovery(req.headers.accept);
      if (v) return typed(aggregatedDiscovery(r.kind === 'apiVersions', v), discoveryContentType(v));
      return ok(r.kind === 'apiVersions' ? apiVersions() : apiGroupList());
    }
    case 'openapiV3Root':
      return readOnly(openApiRoot);
    case 'openapiV3':
      return readOnly(() => openApiGroupVersion(r.group, r.version));
    case 'apiGroup':
      return readOnly(() => apiGroup(r.group));
    case 'resources':
      return readOnly(() => apiResourceList(r.group, r.version));
    case 'bulkApply': {
      if (m !== 'POST') throw methodNotAllowed(m, req.path);
      // kumo's own apply has no dry run: refused, never ignored (kubectl's --dry-run=server goes through the object paths).
      rejectDryRun(req);
      const docs = decodeDocuments(req.headers['content-type'], req.body).map((d) => fields.applyToDocument(d));
      await deps.gate.authorizeDocuments(principal, docs, req.query.get('namespace') ?? undefined);
      const atomic = ['true', '1', ''].includes(req.query.get('atomic') ?? 'false');
      const result = await deps.bulk.apply(docs, { atomic, namespace: req.query.get('namespace') ?? undefined });
      return ok(result, applyStatusCode(result));
    }
    case 'review': {
      if (m !== 'POST') throw methodNotAllowed(m, req.path);
      const answer = await review(r.resource, requestBody(req), {
        gate: deps.gate,
        clock: deps.clock,
        principal,
        namespace: r.namespace,
      });
      return ok(answer, 201);
    }
    case 'nodeAgent': {
      if (m !== 'POST') throw methodNotAllowed(m, req.path);
      if (r.action === 'credentials') {
        const issued = await deps.tokens.issueNodeCredential(r.node);
        return ok({ kind: 'NodeCredential', apiVersion: 'kumo/v1', nodeName: r.node, token: issued.token }, 201);
      }
      if (!deps.nodes) throw new RouteNotFoundError();
      const body = decodeBody(req.headers['content-type'], req.body);
      return ok(
        r.action === 'register' ? await deps.nodes.register(r.node, body) : await deps.nodes.sync(r.node, body),
      );
    }
    case 'metrics': {
      if (m !== 'GET') throw methodNotAllowed(m, req.path);
      if (!deps.metrics)
        throw new StatusError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request', {});
      if (queryBool(req.query, 'watch')) throw methodNotAllowed('WATCH', req.path);
      const q = {
        labelSelector: req.query.get('labelSelector') ?? undefined,
        fieldSelector: req.query.get('fieldSelector') ?? undefined,
      };
      if (r.resource === 'nodes')
        return ok(r.name ? await deps.metrics.getNode(r.name) : await deps.metrics.listNodes(q));
      return ok(
        r.name && r.namespace
          ? await deps.metrics.getPod(r.namespace, r.name)
          : await deps.metrics.listPods(r.namespace, q),
      );
    }
    case 'collection':
      if (r.type.group === RBAC_GROUP) deps = withEscalationCheck(deps, principal);
      if (r.type.conversion)
        return viaStorageVersion(req, r, deps.service, fields, requestBody, (q, rr) =>
          dispatch(q, rr, deps, principal, fields),
        );
      return collection({ req, m, type: r.type, service: deps.service, clock: deps.clock, fields }, r.namespace);
    case 'object': {
      if (r.type.group === RBAC_GROUP) deps = withEscalationCheck(deps, principal);
      if (r.type.conversion)
        return viaStorageVersion(req, r, deps.service, fields, requestBody, (q, rr) =>
          dispatch(q, rr, deps, principal, fields),
        );
      if (r.type.kind === 'Pod' && r.subresource === 'log') {
        if (m !== 'GET') throw methodNotAllowed(m, req.path);
        return {
          code: 200,
          value: null,
          contentType: 'text/plain',
          raw: await podLog(deps.service, deps.logs, r.namespace, r.name, req.query),
        };
      }
      if (r.type.kind === 'ServiceAccount' && r.subresource === 'token') {
        if (m !== 'POST') throw methodNotAllowed(m, req.path);
        rejectDryRun(req);
        const issued = await requestToken(
          deps.service,
          deps.gate.serviceAccountTokens,
          r.namespace,
          r.name,
          requestBody(req),
          deps.clock.now(),
          principal.type === 'node' ? principal.nodeName : undefined,
        );
        return ok(issued, 201);
      }
      if (r.type.kind === 'Pod' && r.subresource === 'binding') {
        if (m !== 'POST') throw methodNotAllowed(m, req.path);
        rejectDryRun(req);
        await deps.bind(r.namespace, r.name, requestBody(req));
        return ok({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }, 201);
      }
      const call = {
        req,
        m,
        type: r.type,
        ns: r.namespace,
        name: r.name,
        service: deps.service,
        clock: deps.clock,
        fields,
      };
      return r.subresource ? subresource(call, r.subresource) : object(call);
    }
  }
}

/** RBAC objects are written only by those who hold what they grant (Gate.checkEscalation). */
function withEscalationCheck(deps: ApiDeps, principal: Principal): ApiDeps {
  return {
    ...deps,
    service: deps.service.guardedBy((type, next, previous) =>
      deps.gate.checkEscalation(principal, type, next, previous),
    ),
  };
}

/** A request on its way to the object service: what was asked, of which kind, and what serves it. */
interface KindCall {
  req: ApiRequest;
  /** The method, upper case. */
  m: string;
  type: ResourceType;
  service: ObjectService;
  clock: Clock;
  fields: FieldRules;
}

/** A request about one object. */
interface ObjectCall extends KindCall {
  ns: string;
  name: string;
}

function rejectDryRun(req: ApiRequest) {
  if (req.query.has('dryRun'))
    throw new BadRequestError('dryRun is not supported by kumo yet; the request was not applied');
}

type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' | 'DeleteOptions';

/**
 * The service a write goes through: the real one, or, with `dryRun=All` (the query's, or a
 * DeleteOptions' `dryRun`), a dry run's that checks, defaults and answers but writes nothing. Any
 * other value is refused as the kube-apiserver's Validate<Kind>Options refuses it.
 */
function writer(req: ApiRequest, service: ObjectService, kind: OptionsKind, bodyDryRun?: unknown): ObjectService {
  // A body's dryRun that is not a list must not read as "no dry run" (and delete for real).
  if (bodyDryRun !== undefined && bodyDryRun !== null && !Array.isArray(bodyDryRun))
    throw new BadRequestError('dryRun in the body must be a list of strings, e.g. ["All"]');
  const values = [...req.query.getAll('dryRun'), ...(Array.isArray(bodyDryRun) ? bodyDryRun : [])];
  if (!values.length) return service;
  const bad = values.find((v) => v !== 'All');
  if (bad !== undefined) {
    const detail = `Unsupported value: ${JSON.stringify(bad)}: supported values: "All"`;
    throw new StatusError(422, 'Invalid', `${kind}.meta.k8s.io "" is invalid: dryRun: ${detail}`, {
      group: 'meta.k8s.io',
      kind,
      causes: [{ reason: 'FieldValueNotSupported', message: detail, field: 'dryRun' }],
    });
  }
  return service.dryRun();
}

async function collection(
  { req, m, type, service, clock, fields }: KindCall,
  namespace: string | undefined,
): Promise<Reply> {
  if (m === 'GET') {
    const labelSelector = req.query.get('labelSelector') ?? undefined;
    const fieldSelector = req.query.get('fieldSelector') ?? undefined;
    checkListOptions(req.query, queryBool(req.query, 'watch'));
    if (queryBool(req.query, 'watch')) {
      const timeout = req.query.get('timeoutSeconds');
      const events = await service.watch(type, namespace, {
        labelSelector,
        fieldSelector,
        resourceVersion: req.query.get('resourceVersion') ?? undefined,
        timeoutSeconds: timeout ? Number(timeout) : undefined,
      });
      // BOOKMARKs go only to a client that asked (allowWatchBookmarks), as the kube-apiserver sends
      // them: `kubectl get -w` does not ask, and printed an empty row for one.
      const bookmarks = queryBool(req.query, 'allowWatchBookmarks');
      // `kubectl get -w` asks for Table rows in its events, as for the list before them.
      const asTable = wantsTable(req.headers.accept);
      const lines = events
        .filter((e) => bookmarks || e.type !== 'BOOKMARK')
        .map((e) =>
          JSON.stringify(
            asTable && e.type !== 'BOOKMARK' && e.type !== 'ERROR'
              ? {
                  ...e,
                  object: toTable(
                    type.kind,
                    [e.object],
                    { resourceVersion: e.object.metadata.resourceVersion },
                    clock.now().getTime(),
                    req.query.get('includeObject') ?? undefined,
                  ),
                }
              : e,
          ),
        );
      return {
        code: 200,
        value: undefined,
        contentType: 'application/json',
        raw: lines.length ? lines.join('\n') + '\n' : '',
      };
    }
    const limit = req.query.get('limit');
    const list = await service.list(type, namespace, {
      labelSelector,
      fieldSelector,
      limit: limit === null ? undefined : Number(limit),
      continue: req.query.get('continue') || undefined,
    });
    if (wantsTable(req.headers.accept))
      return typed(
        toTable(
          type.kind,
          list.items,
          list.metadata,
          clock.now().getTime(),
          req.query.get('includeObject') ?? undefined,
        ),
        TABLE_CONTENT_TYPE,
      );
    return ok(list);
  }
  if (m === 'DELETE' && type.kind !== 'Namespace' && (namespace !== undefined || !type.namespaced)) {
    const opts = deleteOptions(req);
    const limit = req.query.get('limit');
    const listOpts = {
      labelSelector: req.query.get('labelSelector') ?? undefined,
      fieldSelector: req.query.get('fieldSelector') ?? undefined,
      limit: limit === null ? undefined : Number(limit),
      continue: req.query.get('continue') || undefined,
    };
    return ok(
      await writer(req, service, 'DeleteOptions', opts.dryRun).deleteCollection(type, namespace, listOpts, opts),
    );
  }
  if (m === 'POST') {
    if (type.namespaced && namespace === undefined)
      throw methodNotAllowed(m, `${req.path}: create ${type.plural} under /namespaces/{namespace}/${type.plural}`);
    const to = writer(req, service, 'CreateOptions');
    return ok(await to.create(type, namespace, fields.apply(type, requestBody(req))), 201);
  }
  throw methodNotAllowed(m, req.path);
}

/** A request's body: JSON or YAML, or one of the few protobuf messages kubectl's typed clients send. */
function requestBody(req: ApiRequest): unknown {
  if (mediaTypeOf(req.headers['content-type']) === PROTOBUF_MEDIA_TYPE)
    return decodeProtobufObject(req.bodyBytes ?? Buffer.from(req.body ?? '', 'utf8'));
  return decodeBody(req.headers['content-type'], req.body);
}

/** DeleteOptions from a delete's body (or an eviction's); its `dryRun` is read by writer(). */
function checkedDeleteOptions(body: unknown, what: string): DeleteOptions {
  if (!isPlainObject(body)) throw new BadRequestError(`the body of ${what} must be a DeleteOptions object`);
  return body as DeleteOptions;
}

function deleteOptions(req: ApiRequest): DeleteOptions {
  const hasBody = (req.bodyBytes?.length ?? 0) > 0 || Boolean(req.body?.trim());
  const opts = checkedDeleteOptions(hasBody ? requestBody(req) : {}, 'a delete');
  const grace = req.query.get('gracePeriodSeconds');
  const policy = req.query.get('propagationPolicy');
  return {
    ...opts,
    ...(grace !== null ? { gracePeriodSeconds: Number(grace) } : {}),
    ...(policy !== null ? { propagationPolicy: policy as DeleteOptions['propagationPolicy'] } : {}),
  };
}

async function update(call: ObjectCall, mode: UpdateMode) {
  const { req, m, type, ns, name, fields } = call;
  const service = writer(req, call.service, m === 'PUT' ? 'UpdateOptions' : 'PatchOptions');
  if (m === 'PUT')
    return ok(
      await service.replace(
        type,
        ns,
        name,
        fields.apply(type, decodeBody(req.headers['content-type'], req.body)),
        mode,
      ),
    );
  const patchType = patchTypeOf(req.headers['content-type'] ?? '');
  if (patchType === 'apply') {
    if (mode !== 'main')
      throw methodNotAllowed('APPLY', `${req.path}: server-side apply of a subresource is not supported`);
    // kubectl sends the apply body as JSON under the YAML media type; YAML is accepted too.
    const body = decodeBody(req.body?.trimStart().startsWith('{') ? 'application/json' : 'application/yaml', req.body);
    const force = queryBool(req.query, 'force');
    const { object, created } = await service.apply(type, ns, name, fields.apply(type, body), {
      fieldManager: req.query.get('fieldManager') ?? undefined,
      force,
    });
    return ok(object, created ? 201 : 200);
  }
  // A JSON patch names paths, not fields; like the kube-apiserver's, its result is what is stored (unchecked here).
  const patch = decodeBody('application/json', req.body);
  if (patchType === 'json') fields.written(type);
  return ok(
    await service.patch(type, ns, name, patchType, patchType === 'json' ? patch : fields.apply(type, patch), mode),
  );
}

async function object(call: ObjectCall): Promise<Reply> {
  const { req, m, type, ns, name, service, clock } = call;
  switch (m) {
    case 'GET': {
      const o = await service.get(type, ns, name);
      if (wantsTable(req.headers.accept))
        return typed(
          toTable(
            type.kind,
            [o],
            { resourceVersion: o.metadata.resourceVersion },
            clock.now().getTime(),
            req.query.get('includeObject') ?? undefined,
          ),
          TABLE_CONTENT_TYPE,
        );
      return ok(o);
    }
    case 'PUT':
    case 'PATCH':
      return update(call, 'main');
    case 'DELETE': {
      const opts = deleteOptions(req);
      const result = await writer(req, service, 'DeleteOptions', opts.dryRun).delete(type, ns, name, opts);
      return ok(result.deleted ? result.status : result.object);
    }
    default:
      throw methodNotAllowed(m, req.path);
  }
}

async function subresource(call: ObjectCall, sub: string): Promise<Reply> {
  const { req, m, type, ns, name, service } = call;
  if (type.kind === 'Pod' && STREAMING_SUBRESOURCES.has(sub))
    throw methodNotAllowed(
      m,
      `pods/${sub}: kumo's API runs behind API Gateway and Lambda, which cannot hold the streaming connection ${sub} needs`,
    );
  if (!type.subresources.some((s) => s.name === sub))
    throw new StatusError(
      404,
      'NotFound',
      `the server could not find the requested resource (${type.plural}/${sub})`,
      {},
    );
  if (sub === 'eviction') return evict(call);
  if (sub === 'status') {
    if (m === 'GET') return ok(await service.get(type, ns, name));
    if (m === 'PUT' || m === 'PATCH') return update(call, 'status');
    throw methodNotAllowed(m, req.path);
  }
  // scale
  if (m === 'GET') return ok(scaleOf(await service.get(type, ns, name)));
  if (m !== 'PUT' && m !== 'PATCH') throw methodNotAllowed(m, req.path);
  const to = writer(req, service, m === 'PUT' ? 'UpdateOptions' : 'PatchOptions');
  const body = decodeBody(m === 'PUT' ? req.headers['content-type'] : 'application/json', req.body);
  const current = await service.get(type, ns, name);
  const scale = m === 'PUT' ? body : applyPatch(patchTypeOf(req.headers['content-type'] ?? ''), scaleOf(current), body);
  const replicas = replicasFromScale(scale);
  // A precondition only if the client sent one (a PUT's Scale, or a patch that sets it): the version
  // the patch was applied to is the server's own read, and a status write landing meanwhile would
  // otherwise fail `kubectl scale` with 409 (the patch retries instead, as in Kubernetes).
  const sent = m === 'PUT' ? scale : body;
  const rv = isPlainObject(sent) && isPlainObject(sent.metadata) ? sent.metadata.resourceVersion : undefined;
  const patch = { spec: { replicas }, ...(typeof rv === 'string' ? { metadata: { resourceVersion: rv } } : {}) };
  return ok(scaleOf(await to.patch(type, ns, name, 'merge', patch)));
}

/**
 * policy/v1 Eviction (`kubectl drain`): a graceful delete with the eviction's DeleteOptions, answered
 * like the kube-apiserver with a Success Status and 201, or 429 while the pod's PodDisruptionBudget
 * allows no disruption (apiserver/eviction.ts).
 */
async function evict({ req, m, ns, name, service }: ObjectCall): Promise<Reply> {
  if (m !== 'POST') throw methodNotAllowed(m, req.path);
  const body = requestBody(req);
  if (!isPlainObject(body)) throw new BadRequestError('the body of an eviction must be an Eviction object (policy/v1)');
  const named = isPlainObject(body.metadata) ? body.metadata.name : undefined;
  if (named !== undefined && named !== name)
    throw new BadRequestError('name in URL does not match name in Eviction object');
  const opts = checkedDeleteOptions(body.deleteOptions ?? {}, "an eviction's deleteOptions");
  const refused = await writer(req, service, 'CreateOptions', opts.dryRun).evict(ns, name, opts);
  if (refused) return ok(refused, refused.code);
  return ok({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }, 201);
}
