import { API_AUDIENCES, type ServiceAccountTokens } from '../auth/service-account-tokens.js';
import {
  BadRequestError,
  cause,
  ConflictError,
  ForbiddenError,
  StatusError,
  type StatusCause,
} from '../model/errors.js';
import { nodeNameOf } from '../model/pod-state.js';
import { isPlainObject } from '../model/json.js';
import { kindNamed } from '../model/kinds.js';
import { rfc3339 } from '../util/clock.js';
import type { ObjectService } from './object-service.js';

/**
 * POST serviceaccounts/{name}/token (authentication.k8s.io/v1 TokenRequest), as
 * pkg/registry/core/serviceaccount/storage/token.go serves it: a token for an existing account, for
 * the audiences asked (the API's by default), for `expirationSeconds` (an hour by default, at least ten
 * minutes), optionally bound to a pod of that account so it dies with the pod. What `kubectl create
 * token` and the agent (for projected volumes) ask.
 */

const SERVICE_ACCOUNT = kindNamed('ServiceAccount');
const POD = kindNamed('Pod');
const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (isPlainObject(v) ? v : {});

const nodeForbidden = (name: string, why: string) =>
  new ForbiddenError({ resource: 'serviceaccounts', group: '', name }, why);

/** plugin/pkg/admission/noderestriction admitServiceAccount: a node asks only for tokens bound to a pod, by uid. */
function nodeRestriction(name: string, ref: unknown): void {
  if (!isPlainObject(ref) || ref.apiVersion !== 'v1' || ref.kind !== 'Pod' || !ref.name)
    throw nodeForbidden(name, 'node requested token not bound to a pod');
  if (!ref.uid) throw nodeForbidden(name, 'node requested token with a pod binding without a uid');
}

export async function requestToken(
  service: ObjectService,
  tokens: ServiceAccountTokens | undefined,
  namespace: string,
  name: string,
  body: unknown,
  now: Date,
  /** The node asking, when a node asks: its tokens must be bound to its own pods (NodeRestriction). */
  node?: string,
): Promise<Obj> {
  if (!tokens)
    throw new StatusError(503, 'ServiceUnavailable', 'this API has no service account signing key configured', {});
  const request = obj(body);
  if (request.kind !== undefined && request.kind !== 'TokenRequest')
    throw new BadRequestError(`the body is a ${String(request.kind)}; serviceaccounts/token takes a TokenRequest`);
  const spec = obj(request.spec);
  // SetDefaults_TokenRequestSpec: an hour.
  const expirationSeconds = spec.expirationSeconds ?? 3600;
  const audiences =
    spec.audiences === undefined || (Array.isArray(spec.audiences) && !spec.audiences.length)
      ? API_AUDIENCES
      : spec.audiences;
  const ref = spec.boundObjectRef;
  const causes: StatusCause[] = [];
  if (ref !== undefined && ref !== null) {
    if (!isPlainObject(ref)) causes.push(cause.invalid('spec.boundObjectRef', ref, 'must be an object'));
    else if (typeof ref.name !== 'string' || ref.name === '') causes.push(cause.required('spec.boundObjectRef.name'));
    else if (ref.uid !== undefined && typeof ref.uid !== 'string')
      causes.push(cause.invalid('spec.boundObjectRef.uid', ref.uid, 'must be a string'));
  }
  if (typeof expirationSeconds !== 'number' || !Number.isInteger(expirationSeconds))
    causes.push(cause.invalid('spec.expirationSeconds', expirationSeconds, 'must be an integer'));
  else if (expirationSeconds < MIN_EXPIRATION_SECONDS)
    causes.push(
      cause.invalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes'),
    );
  else if (expirationSeconds > MAX_EXPIRATION_SECONDS)
    causes.push(
      cause.invalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration larger than 2^32 seconds'),
    );
  if (!Array.isArray(audiences) || !audiences.every((a): a is string => typeof a === 'string' && a !== ''))
    causes.push(cause.invalid('spec.audiences', audiences, 'must be non-empty strings'));
  if (causes.length)
    throw new StatusError(
      422,
      'Invalid',
      `TokenRequest.authentication.k8s.io "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
      { name, group: 'authentication.k8s.io', kind: 'TokenRequest', causes },
    );
  if (node !== undefined) nodeRestriction(name, ref);
  const account = await service.get(SERVICE_ACCOUNT, namespace, name);
  let pod: { name: string; uid: string } | undefined;
  if (isPlainObject(ref)) {
    // kumo revokes a bound token when its pod goes; a Secret-bound token it could not revoke is refused.
    if (ref.kind !== 'Pod')
      throw new BadRequestError(
        `cannot bind token to object of type ${String(ref.kind)}: kumo binds tokens to pods only`,
      );
    const found = await service.get(POD, namespace, String(ref.name ?? ''));
    const mismatch = `the UID in the bound object reference (${String(ref.uid)}) does not match the UID in record. The object might have been deleted and then recreated`;
    // NodeRestriction refuses a node's mismatch as Forbidden, before the registry's Conflict.
    if (ref.uid && ref.uid !== found.metadata.uid)
      throw node !== undefined
        ? nodeForbidden(name, mismatch)
        : new ConflictError({ resource: 'Pod', group: '', name: String(ref.name) }, mismatch);
    if (obj(found.spec).serviceAccountName !== name)
      throw new BadRequestError(
        `cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`,
      );
    if (node !== undefined && nodeNameOf(found) !== node)
      throw nodeForbidden(name, 'node requested token bound to a pod scheduled on a different node');
    pod = { name: found.metadata.name, uid: found.metadata.uid ?? '' };
  }
  const issued = await tokens.issue(
    { namespace, serviceAccount: { name, uid: account.metadata.uid ?? '' }, ...(pod ? { pod } : {}) },
    audiences as string[],
    expirationSeconds as number,
  );
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { ...obj(request.metadata), name, namespace, creationTimestamp: rfc3339(now) },
    spec: { ...spec, audiences, expirationSeconds, ...(ref ? { boundObjectRef: ref } : {}) },
    status: { token: issued.token, expirationTimestamp: rfc3339(issued.expiresAt) },
  };
}
