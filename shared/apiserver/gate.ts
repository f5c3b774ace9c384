import {
  AccessDeniedError,
  BadRequestError,
  RequestEntityTooLargeError,
  TooManyRequestsError,
  UnauthorizedError,
} from '../model/errors.js';
import type { Route } from './http/routes.js';
import type { ApiRequest } from './http/request.js';
import { isPlainObject } from '../model/json.js';
import { typeByKindName } from '../model/kinds.js';
import type { KubeObject } from '../model/types.js';
import type { Clock } from '../util/clock.js';
import type { ObjectStore } from '../store/store.js';
import { listAll } from '../store/list-all.js';
import { resourceLabel, type RequestAttributes } from '../auth/attributes.js';
import { requestAttributes } from './http/request-attributes.js';
import { Authenticator } from '../auth/authenticator.js';
import { podReferences } from '../auth/pod-references.js';
import { claimNamesOf, claimRefOf, volumeNameOf } from '../model/storage.js';
import { SYSTEM_MASTERS, userInfoOf, userName, type Principal } from '../auth/principal.js';
import { describeRules, ruleAllows, ruleRequestOf, uncovered, type RuleRequest } from '../auth/policy-rules.js';
import type { RbacPolicy } from '../auth/rbac-policy.js';
import { RBAC_GROUP, aggregationSelectorsOf, roleRefOf, rulesOf, type PolicyRule } from '../model/rbac.js';
import type { ResourceType } from '../model/kinds.js';
import { NotFoundError } from '../model/errors.js';
import { jsonEqual } from '../model/json.js';
import { RbacSnapshots } from './rbac-snapshot.js';
import { ServiceAccountTokens, type ServiceAccountTokenClaims } from '../auth/service-account-tokens.js';
import type { SigningKeyStore } from '../auth/signing-key-store.js';
import type { GenerationStore } from '../store/generation.js';
import { RateLimiter } from '../auth/rate-limiter.js';
import { decide, type Decision } from '../auth/token-roles.js';
import type { TokenStore } from '../auth/token-store.js';
import type { AuthSettings } from '../auth/settings.js';
import { bearerToken } from '../auth/tokens.js';
import { nodeNameOf } from '../model/pod-state.js';

const DEV_PRINCIPAL: Principal = { type: 'user', name: 'system:dev-loopback', role: 'cluster-admin', namespaces: [] };
const isLoopback = (ip: string | undefined) => ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1';

/** Authentication, rate limiting, size limits and authorization in front of every API route. */
export class Gate {
  private readonly authenticator: Authenticator;
  private readonly limiter: RateLimiter;
  /** The stored RBAC objects, per warm container (rbac-snapshot.ts). */
  readonly rbac: RbacSnapshots;

  /** Issues and checks ServiceAccount tokens; undefined when this API has no signing key store. */
  readonly serviceAccountTokens?: ServiceAccountTokens;

  constructor(
    private readonly settings: AuthSettings,
    tokens: TokenStore,
    private readonly store: ObjectStore,
    private readonly clock: Clock,
    signingKeys?: SigningKeyStore,
    rbacGeneration?: GenerationStore,
  ) {
    this.serviceAccountTokens = signingKeys ? new ServiceAccountTokens(signingKeys, clock) : undefined;
    this.authenticator = new Authenticator(
      tokens,
      clock,
      settings.cacheSeconds * 1000,
      this.serviceAccountTokens && {
        tokens: this.serviceAccountTokens,
        stillBound: (claims) => this.stillBound(claims),
      },
    );
    this.limiter = new RateLimiter(clock, settings.rateLimit.perSecond, settings.rateLimit.burst);
    this.rbac = new RbacSnapshots(store, clock, settings.rbacCacheSeconds * 1000, rbacGeneration);
  }

  /** Who is asking (401 without valid credentials), within their rate (429) and the size limit (413). */
  async admit(req: ApiRequest): Promise<Principal> {
    const size = req.bodyBytes?.length ?? Buffer.byteLength(req.body ?? '', 'utf8');
    if (size > this.settings.maxBodyBytes)
      throw new RequestEntityTooLargeError(
        `the request body is ${size} bytes; the limit is ${this.settings.maxBodyBytes} bytes`,
      );
    const header = req.headers.authorization;
    // The local developer is not rate limited: benchmarks and tests drive the local stack through it.
    // Only over plain http: an https request from loopback may be a pod's, relayed by its node's proxy
    // to the `kubernetes` Service's endpoint, and must carry its token.
    if (
      header === undefined &&
      this.settings.mode === 'dev-loopback' &&
      isLoopback(req.sourceIp) &&
      req.headers['x-forwarded-proto'] !== 'https'
    )
      return this.impersonate(DEV_PRINCIPAL, req);
    const token = bearerToken(header);
    if (!token) throw new UnauthorizedError();
    const principal = await this.authenticator.authenticate(token);
    const wait = this.limiter.take(userName(principal));
    if (wait > 0)
      throw new TooManyRequestsError(`too many requests from ${userName(principal)}; retry after ${wait} s`, wait);
    return this.impersonate(principal, req);
  }

  /**
   * Kubernetes' impersonation (apiserver/pkg/endpoints/filters/impersonation.go): `Impersonate-User` and
   * `Impersonate-Group` (kubectl --as, --as-group) make the request act as that user, if the caller may
   * `impersonate` each (users, groups, and a ServiceAccount's own name in its namespace). The impersonated
   * user has no token role: what RBAC grants its name and groups. Uids and extras are refused, not ignored.
   */
  private async impersonate(p: Principal, req: ApiRequest): Promise<Principal> {
    const h = req.headers;
    const user = h['impersonate-user']?.trim();
    const groups = (h['impersonate-group'] ?? '')
      .split(',')
      .map((g) => g.trim())
      .filter(Boolean);
    const other = Object.keys(h).filter((k) => k === 'impersonate-uid' || k.startsWith('impersonate-extra-'));
    if (!user && !groups.length && !other.length) return p;
    if (!user)
      throw new BadRequestError(
        `requested impersonation of groups ${JSON.stringify(groups)} without impersonating a user`,
      );
    if (other.length) throw new BadRequestError(`kumo does not impersonate ${other.join(', ')}: only users and groups`);
    const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(user);
    const asked: RequestAttributes[] = [
      sa
        ? {
            type: 'resource',
            verb: 'impersonate',
            group: '',
            resource: 'serviceaccounts',
            namespaced: true,
            namespace: sa[1],
            name: sa[2],
          }
        : { type: 'resource', verb: 'impersonate', group: '', resource: 'users', namespaced: false, name: user },
      ...groups.map((g): RequestAttributes => ({
        type: 'resource',
        verb: 'impersonate',
        group: '',
        resource: 'groups',
        namespaced: false,
        name: g,
      })),
    ];
    for (const a of asked) await this.enforce(p, a, await this.settle(p, a));
    const saGroups = sa ? ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`] : [];
    return {
      type: 'user',
      name: user,
      // A member of system:masters is what a cluster-admin token stands for.
      role: groups.includes(SYSTEM_MASTERS) ? 'cluster-admin' : 'none',
      namespaces: [],
      groups: [...new Set([...groups, ...saGroups])].filter((g) => g !== SYSTEM_MASTERS),
    };
  }

  /** 403 unless the principal may do what the request asks. */
  async authorize(p: Principal, r: Route | undefined, req: ApiRequest): Promise<void> {
    const a = requestAttributes(r, req.method, req.path, req.query);
    await this.enforce(p, a, await this.settle(p, a));
  }

  /**
   * The decision, as kube-apiserver's union of authorizers: the token's own role (and for nodes the Node
   * authorizer) first, then RBAC bindings to the user's name and groups. RBAC never denies; it may only
   * add what the first did not allow.
   */
  async settle(p: Principal, a: RequestAttributes): Promise<Decision & { reason?: string }> {
    const r = ruleRequestOf(a);
    // Verbs beyond the API's eight (bind, escalate, impersonate, use: asked through access reviews) are
    // decided by rules alone: the token roles' Kubernetes ClusterRoles grant them as Kubernetes does.
    if (r && p.type === 'user' && a.type === 'resource' && !STANDARD_VERBS.has(a.verb)) {
      const policy = await this.rbac.policy();
      if (this.rulesFor(p, a.namespace, policy).some((rule) => ruleAllows(rule, r))) return { allow: true };
      return { allow: false, reason: `no role of the user grants ${a.verb}` };
    }
    const first = await this.resolve(decide(p, a));
    // Nodes too, as Kubernetes' chain runs RBAC after the Node authorizer; bootstrap tokens only buy credentials.
    if (('allow' in first && first.allow) || p.type === 'bootstrap' || !r) return first;
    const rbac = (await this.rbac.policy()).authorize(
      userInfoOf(p),
      r,
      a.type === 'resource' ? a.namespace : undefined,
    );
    return rbac.allowed ? { allow: true, reason: rbac.reason } : first;
  }

  /**
   * Every rule the principal holds in a namespace (undefined: cluster-wide only): its token role as the
   * Kubernetes ClusterRole of that name bound there, and what RBAC bindings grant (RulesFor). What the
   * escalation checks and SelfSubjectRulesReview read.
   */
  rulesFor(p: Principal, namespace: string | undefined, policy: RbacPolicy): PolicyRule[] {
    if (p.type !== 'user') return [];
    const own =
      p.role === 'cluster-admin'
        ? (policy.clusterRoleRules('cluster-admin') ?? [])
        : p.role !== 'none' && namespace !== undefined && p.namespaces.includes(namespace)
          ? (policy.clusterRoleRules(p.role) ?? [])
          : [];
    // Every user reads discovery, version, OpenAPI and health (decideUser's nonResource rule).
    const discovery: PolicyRule = { verbs: ['get'], nonResourceURLs: ['*'] };
    const all = [...own, discovery, ...policy.rulesFor(userInfoOf(p), namespace)];
    return all.filter((r, i) => all.findIndex((o) => jsonEqual(o, r)) === i);
  }

  /**
   * Kubernetes' escalation prevention (pkg/registry/rbac/{role,clusterrole,rolebinding,clusterrolebinding}/policybased): a Role or ClusterRole may be
   * written only by someone who holds every permission in it (or the `escalate` verb on it), a binding
   * only by someone who holds every permission of the role it names (or the `bind` verb on that role).
   * Members of system:masters skip the check; an update that changes only finalizers and owners too.
   */
  async checkEscalation(
    p: Principal,
    type: ResourceType,
    next: KubeObject,
    previous?: KubeObject,
    pending?: { roles: KubeObject[]; clusterRoles: KubeObject[] },
  ): Promise<void> {
    if (type.group !== RBAC_GROUP) return;
    const user = userInfoOf(p);
    if (user.groups.includes(SYSTEM_MASTERS)) return;
    if (previous && onlyGcFieldsChanged(next, previous)) return;
    const stored = await this.rbac.policy();
    const policy = pending ? stored.with(pending) : stored;
    const namespace = type.namespaced ? (next.metadata.namespace ?? '') : undefined;
    const name = next.metadata.name ?? '';
    const holds = (r: RuleRequest) => this.rulesFor(p, namespace, policy).some((rule) => ruleAllows(rule, r));
    const refuse = (detail: string) =>
      new AccessDeniedError(`${type.plural}.${RBAC_GROUP} "${name}" is forbidden: ${detail}`, {
        resource: type.plural,
        group: RBAC_GROUP,
        name,
      });
    const notHeld = (missing: PolicyRule[]) =>
      refuse(
        `user ${JSON.stringify(user.name)} (groups=[${user.groups.map((g) => JSON.stringify(g)).join(' ')}]) is attempting to grant RBAC permissions not currently held:\n${describeRules(missing).join('\n')}`,
      );
    if (type.kind === 'Role' || type.kind === 'ClusterRole') {
      // RoleEscalationAuthorized: the request's own name (none on a create).
      const escalate = holds({
        type: 'resource',
        verb: 'escalate',
        group: RBAC_GROUP,
        resource: type.plural,
        name: previous ? name : undefined,
      });
      if (!escalate) {
        const missing = uncovered(this.rulesFor(p, namespace, policy), rulesOf(next));
        if (missing.length) throw notHeld(missing);
      }
      // An aggregationRule can gather anything: it takes * on *.* (clusterrole/policybased/storage.go).
      if (type.kind === 'ClusterRole' && [next, previous].some((o) => o && aggregationSelectorsOf(o)?.length)) {
        if (uncovered(this.rulesFor(p, namespace, policy), FULL_AUTHORITY).length)
          throw refuse('must have cluster-admin privileges to use the aggregationRule');
      }
      return;
    }
    const ref = roleRefOf(next);
    if (!ref) return; // validation answers for a binding without a roleRef
    const resource = ref.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
    if (holds({ type: 'resource', verb: 'bind', group: ref.apiGroup, resource, name: ref.name })) return;
    const rules = policy.roleRefRules(ref, namespace ?? '');
    if (!rules) throw new NotFoundError({ resource, group: RBAC_GROUP, name: ref.name });
    const missing = uncovered(this.rulesFor(p, namespace, policy), rules);
    if (missing.length) throw notHeld(missing);
  }

  /** kumo's multi-document apply: the caller must be allowed to create and to update every document. */
  async authorizeDocuments(p: Principal, docs: unknown[], defaultNamespace: string | undefined): Promise<void> {
    for (const d of docs) {
      if (!isPlainObject(d) || typeof d.kind !== 'string') continue; // the applier reports malformed documents itself
      const type = typeByKindName(d.kind);
      if (!type) continue;
      const meta = isPlainObject(d.metadata) ? d.metadata : {};
      const name = typeof meta.name === 'string' ? meta.name : undefined;
      const namespace = type.namespaced
        ? typeof meta.namespace === 'string'
          ? meta.namespace
          : (defaultNamespace ?? 'default')
        : undefined;
      for (const verb of ['create', 'update'] as const) {
        const a: RequestAttributes = {
          type: 'resource',
          verb,
          group: type.group,
          resource: type.plural,
          namespaced: type.namespaced,
          namespace,
          // A create has no name in Kubernetes' attributes (resourceNames never grant one).
          ...(verb === 'update' ? { name } : {}),
        };
        await this.enforce(p, a, await this.settle(p, a));
      }
      if (type.group === RBAC_GROUP && isPlainObject(d.metadata) && name) {
        const previous = await this.store.get({ kind: type.kind, namespace: namespace ?? '', name });
        // A binding may name a Role the same manifest makes: it is judged with the manifest's roles.
        await this.checkEscalation(p, type, { ...(d as KubeObject), metadata: { ...meta, namespace } }, previous, {
          roles: rolesIn(docs, 'Role', defaultNamespace),
          clusterRoles: rolesIn(docs, 'ClusterRole', defaultNamespace),
        });
      }
    }
  }

  private async enforce(p: Principal, a: RequestAttributes, d: Decision): Promise<void> {
    if ('allow' in d && d.allow) return;
    const why = 'reason' in d ? d.reason : 'not allowed';
    throw denial(p, a, why);
  }

  /**
   * Whether a ServiceAccount token's account, and the pod it is bound to, are still the objects it was
   * issued for (pkg/serviceaccount/claims.go Validate): the same uids, the pod not past its deletion.
   */
  private async stillBound(claims: ServiceAccountTokenClaims): Promise<boolean> {
    const [account, pod] = await Promise.all([
      this.store.get({ kind: 'ServiceAccount', namespace: claims.namespace, name: claims.serviceAccount.name }),
      claims.pod
        ? this.store.get({ kind: 'Pod', namespace: claims.namespace, name: claims.pod.name })
        : Promise.resolve(undefined),
    ]);
    if (!account || account.metadata.uid !== claims.serviceAccount.uid) return false;
    if (!claims.pod) return true;
    if (!pod || pod.metadata.uid !== claims.pod.uid) return false;
    const deleting = pod.metadata.deletionTimestamp;
    return !deleting || Date.parse(deleting) > this.clock.now().getTime();
  }

  /** Settles the checks that depend on stored pods (Kubernetes' Node authorizer graph, read on demand). */
  private async resolve(d: Decision): Promise<Decision> {
    if (!('check' in d)) return d;
    if (d.check === 'podOnNode') {
      const pod = await this.store.get({ kind: 'Pod', namespace: d.namespace, name: d.name });
      // A missing pod is denied, not 404: a node must not learn which pods exist elsewhere.
      return pod && nodeNameOf(pod) === d.nodeName
        ? { allow: true }
        : { allow: false, reason: 'the pod is not bound to this node' };
    }
    const pods = await listAll(this.store, { kind: 'Pod', nodeName: d.nodeName });
    if (d.check === 'accountOfNode')
      return pods.some(
        (pod) => pod.metadata.namespace === d.namespace && (pod.spec?.serviceAccountName ?? 'default') === d.name,
      )
        ? { allow: true }
        : { allow: false, reason: 'no pod bound to this node runs as this ServiceAccount' };
    if (d.check === 'volumeOfNode') {
      // The node authorizer's graph: pod → claim → volume.
      const claims = await this.store.getMany(
        pods.flatMap((pod) =>
          claimNamesOf(pod).map((name) => ({
            kind: 'PersistentVolumeClaim',
            namespace: pod.metadata.namespace ?? '',
            name,
          })),
        ),
      );
      // The volume must name the claim back (a claim's volumeName is its author's to write).
      const pv = claims.some((c) => volumeNameOf(c) === d.name)
        ? await this.store.get({ kind: 'PersistentVolume', namespace: '', name: d.name })
        : undefined;
      const ref = pv && claimRefOf(pv);
      return ref &&
        claims.some(
          (c) =>
            volumeNameOf(c) === d.name &&
            c.metadata.namespace === ref.namespace &&
            c.metadata.name === ref.name &&
            c.metadata.uid === ref.uid,
        )
        ? { allow: true }
        : { allow: false, reason: 'no pod bound to this node uses a claim bound to this PersistentVolume' };
    }
    const referenced = pods.some((pod: KubeObject) => {
      if (pod.metadata.namespace !== d.namespace) return false;
      if (d.kind === 'PersistentVolumeClaim') return claimNamesOf(pod).includes(d.name);
      const refs = podReferences(pod);
      return (d.kind === 'ConfigMap' ? refs.configMaps : refs.secrets).has(d.name);
    });
    return referenced
      ? { allow: true }
      : { allow: false, reason: `no pod bound to this node refers to this ${d.kind}` };
  }
}

const STANDARD_VERBS = new Set(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection']);

/** `*` on every resource and every URL: what setting an aggregationRule takes. */
const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

/** The Roles (or ClusterRoles) a multi-document apply makes, as they would be stored. */
function rolesIn(docs: unknown[], kind: 'Role' | 'ClusterRole', defaultNamespace: string | undefined): KubeObject[] {
  return docs
    .filter((d): d is KubeObject => isPlainObject(d) && d.kind === kind && isPlainObject(d.metadata))
    .map((d) =>
      kind === 'Role'
        ? { ...d, metadata: { ...d.metadata, namespace: d.metadata.namespace ?? defaultNamespace ?? 'default' } }
        : d,
    );
}

/** IsOnlyMutatingGCFields: the garbage collector's writes (owners, finalizers) are not grants. */
function onlyGcFieldsChanged(next: KubeObject, previous: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { ownerReferences: _o, finalizers: _f, resourceVersion: _r, managedFields: _m, ...meta } = o.metadata;
    return { ...o, metadata: meta };
  };
  return jsonEqual(strip(next), strip(previous));
}

function denial(p: Principal, a: RequestAttributes, why: string): AccessDeniedError {
  const user = `User "${userName(p)}"`;
  switch (a.type) {
    case 'resource': {
      const label = resourceLabel(a);
      const subject = a.name !== undefined ? `${label} "${a.name}"` : label;
      // As the kube-apiserver words it: a request without a namespace is "at the cluster scope".
      const where = a.namespace !== undefined ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
      return new AccessDeniedError(
        `${subject} is forbidden: ${user} cannot ${a.verb} resource "${a.resource}${a.subresource ? `/${a.subresource}` : ''}" in API group "${a.group}"${where}: ${why}`,
        { resource: a.resource, group: a.group, name: a.name },
      );
    }
    case 'nonResource':
      return new AccessDeniedError(`forbidden: ${user} cannot ${a.verb} path "${a.path}": ${why}`, {});
    case 'agent':
      return new AccessDeniedError(`nodes "${a.node}" is forbidden: ${user} cannot ${a.action} as this node: ${why}`, {
        resource: 'nodes',
        group: '',
        name: a.node,
      });
    case 'bulkApply':
      return new AccessDeniedError(`forbidden: ${user} cannot apply objects: ${why}`, {});
  }
}
