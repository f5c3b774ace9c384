import { BadRequestError, cause, StatusError, type StatusCause } from '../model/errors.js';
import { isPlainObject } from '../model/json.js';
import { RESOURCE_TYPES } from '../model/kinds.js';
import type { RequestAttributes, Verb } from '../auth/attributes.js';
import { SYSTEM_MASTERS, userInfoOf, type Principal } from '../auth/principal.js';
import { ruleRequestOf } from '../auth/policy-rules.js';
import type { UserInfo } from '../auth/rbac-policy.js';
import { rfc3339, type Clock } from '../util/clock.js';
import type { Gate } from './gate.js';
import { AUTHORIZATION_GROUP, type ReviewResource } from './review-resources.js';

/**
 * authorization.k8s.io/v1 access reviews and authentication.k8s.io/v1 SelfSubjectReview, as
 * pkg/registry/authorization/* and pkg/registry/authentication/selfsubjectreview serve them: create-only,
 * nothing stored, the answer is the request with its status filled (201). What `kubectl auth can-i`
 * (SelfSubjectAccessReview, and SelfSubjectRulesReview for `--list`) and `kubectl auth whoami` post.
 */

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (isPlainObject(v) ? v : {});
const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** Invalid review: the decoded object has no Kind in Kubernetes, hence `.authorization.k8s.io "" is invalid`. */
function invalid(causes: StatusCause[]): StatusError {
  const msg = causes.map((c) => `${c.field}: ${c.message}`);
  return new StatusError(
    422,
    'Invalid',
    `.${AUTHORIZATION_GROUP} "" is invalid: ${msg.length === 1 ? msg[0] : `[${msg.join(', ')}]`}`,
    { group: AUTHORIZATION_GROUP, name: '', causes },
  );
}

/** ValidateSubjectAccessReviewSpec (1.32's field paths). */
function specCauses(spec: Obj, subject: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  const hasResource = isPlainObject(spec.resourceAttributes);
  const hasNonResource = isPlainObject(spec.nonResourceAttributes);
  if (hasResource && hasNonResource)
    out.push(
      cause.invalid(
        'spec.nonResourceAttributes',
        spec.nonResourceAttributes,
        'cannot be specified in combination with resourceAttributes',
      ),
    );
  if (!hasResource && !hasNonResource)
    out.push({
      reason: 'FieldValueInvalid',
      field: 'spec.resourceAttributes',
      message: 'Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified',
    });
  const groups = Array.isArray(spec.groups) ? spec.groups : [];
  if (subject && !str(spec.user) && groups.length === 0)
    out.push(cause.invalid('spec.user', str(spec.user), 'at least one of user or group must be specified'));
  return out;
}

/** Kubernetes' AuthorizationAttributesFrom: the spec's attributes as a request's. */
function attributesOf(spec: Obj): RequestAttributes {
  if (isPlainObject(spec.resourceAttributes)) {
    const ra = spec.resourceAttributes;
    const namespace = str(ra.namespace);
    return {
      type: 'resource',
      verb: str(ra.verb) as Verb,
      group: str(ra.group),
      resource: str(ra.resource),
      ...(str(ra.subresource) ? { subresource: str(ra.subresource) } : {}),
      // Whether the resource is namespaced is the kind's (kubectl sends its context namespace for nodes too);
      // for a resource kumo does not serve, a namespace given means it is asked there.
      namespaced:
        RESOURCE_TYPES.find((t) => t.group === str(ra.group) && t.plural === str(ra.resource))?.namespaced ??
        namespace !== '',
      ...(namespace ? { namespace } : {}),
      ...(str(ra.name) ? { name: str(ra.name) } : {}),
    };
  }
  const na = obj(spec.nonResourceAttributes);
  return { type: 'nonResource', verb: str(na.verb), path: str(na.path) };
}

function accessStatus(d: { allow?: boolean; reason?: string }) {
  const allowed = d.allow === true;
  return { allowed, ...(d.reason && allowed ? { reason: d.reason } : {}) };
}

export interface ReviewContext {
  gate: Gate;
  clock: Clock;
  principal: Principal;
  /** The namespace of the URL (LocalSubjectAccessReview). */
  namespace?: string;
}

/** Answers one review. `body` is the decoded request; the answer is the object to return with 201. */
export async function review(resource: ReviewResource, body: unknown, ctx: ReviewContext): Promise<Obj> {
  const o = obj(body);
  if (o.kind !== undefined && o.kind !== resource.kind)
    throw new BadRequestError(`the body is a ${str(o.kind)}; this resource takes a ${resource.kind}`);
  const spec = obj(o.spec);
  const head = { kind: resource.kind, apiVersion: `${resource.group}/${resource.version}` };
  switch (resource.kind) {
    case 'SelfSubjectReview': {
      const u = userInfoOf(ctx.principal);
      return {
        ...head,
        metadata: { creationTimestamp: rfc3339(ctx.clock.now()) },
        status: { userInfo: { username: u.name, groups: u.groups } },
      };
    }
    case 'SelfSubjectRulesReview': {
      const namespace = str(spec.namespace);
      if (!namespace) throw new BadRequestError('no namespace on request');
      const policy = await ctx.gate.rbac.policy();
      const rules = ctx.gate.rulesFor(ctx.principal, namespace, policy);
      return {
        ...head,
        metadata: {},
        spec: {},
        status: {
          resourceRules: rules
            .filter((r) => !r.nonResourceURLs?.length)
            .map((r) => ({
              verbs: r.verbs,
              ...(r.apiGroups ? { apiGroups: r.apiGroups } : {}),
              ...(r.resources ? { resources: r.resources } : {}),
              ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}),
            })),
          nonResourceRules: rules
            .filter((r) => r.nonResourceURLs?.length)
            .map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
          // Nodes are decided by the Node authorizer, which cannot list its rules (as in Kubernetes).
          incomplete: ctx.principal.type !== 'user',
        },
      };
    }
    case 'SelfSubjectAccessReview': {
      const causes = specCauses(spec, false);
      if (causes.length) throw invalid(causes);
      const d = await ctx.gate.settle(ctx.principal, attributesOf(spec));
      return { ...head, metadata: {}, spec, status: accessStatus('allow' in d ? d : {}) };
    }
    default: {
      // SubjectAccessReview, LocalSubjectAccessReview: any user and groups, decided by RBAC alone (a
      // review names a user, not a kumo token); members of system:masters may do anything.
      const causes = specCauses(spec, true);
      const local = resource.kind === 'LocalSubjectAccessReview';
      if (local) {
        const ra = obj(spec.resourceAttributes);
        if (isPlainObject(spec.resourceAttributes) && str(ra.namespace) !== (ctx.namespace ?? ''))
          causes.push(
            cause.invalid('spec.resourceAttributes.namespace', str(ra.namespace), 'must match metadata.namespace'),
          );
        if (isPlainObject(spec.nonResourceAttributes))
          causes.push(
            cause.invalid(
              'spec.nonResourceAttributes',
              spec.nonResourceAttributes,
              'disallowed on this kind of request',
            ),
          );
      }
      if (causes.length) throw invalid(causes);
      const user: UserInfo = {
        name: str(spec.user),
        groups: (Array.isArray(spec.groups) ? spec.groups : []).filter((g): g is string => typeof g === 'string'),
      };
      const a = attributesOf(spec);
      const request = ruleRequestOf(a);
      const d =
        user.groups.includes(SYSTEM_MASTERS) || !request
          ? { allowed: user.groups.includes(SYSTEM_MASTERS), reason: '' }
          : (await ctx.gate.rbac.policy()).authorize(user, request, a.type === 'resource' ? a.namespace : undefined);
      return {
        ...head,
        metadata: local ? { namespace: ctx.namespace ?? '' } : {},
        spec,
        status: accessStatus({ allow: d.allowed, reason: d.reason }),
      };
    }
  }
}
