import { ForbiddenError } from './errors.js';
import { isPlainObject } from './json.js';
import type { KubeObject } from './types.js';

/** The account every namespace has and a pod without serviceAccountName runs as. */
export const DEFAULT_SERVICE_ACCOUNT = 'default';

/** Finds a ServiceAccount of the pods' namespace by name (undefined: there is none). */
export type ServiceAccountLookup = (name: string) => Promise<KubeObject | undefined>;

const nameRefs = (v: unknown): { name: string }[] =>
  (Array.isArray(v) ? v : [])
    .map((r: unknown) => (isPlainObject(r) && typeof r.name === 'string' ? { name: r.name } : undefined))
    .filter((r): r is { name: string } => r !== undefined);

/**
 * Kubernetes' ServiceAccount admission for pods being created (plugin/pkg/admission/serviceaccount
 * admission.go, Admit): a pod without serviceAccountName runs as `default`; the account must exist,
 * or the create is Forbidden with Kubernetes' message; a pod without imagePullSecrets gets the
 * account's. The deprecated `serviceAccount` field mirrors the name, as the v1 conversion keeps it.
 * Tokens are not mounted yet (the README's Pod fields table says so).
 */
export async function admitServiceAccounts(pods: KubeObject[], lookup: ServiceAccountLookup): Promise<void> {
  for (const pod of pods) {
    const spec = (pod.spec ??= {});
    const named =
      (typeof spec.serviceAccountName === 'string' && spec.serviceAccountName) ||
      (typeof spec.serviceAccount === 'string' && spec.serviceAccount) ||
      DEFAULT_SERVICE_ACCOUNT;
    spec.serviceAccountName = named;
    spec.serviceAccount = named;
    const account = await lookup(named);
    if (!account) {
      const { name, generateName, namespace } = pod.metadata;
      // admission.NewForbidden names the object, or its generateName before a name is generated.
      const shown = generateName && name?.startsWith(generateName) ? generateName : name;
      throw new ForbiddenError(
        { resource: 'pods', group: '', name: shown },
        `error looking up service account ${namespace ?? ''}/${named}: serviceaccount "${named}" not found`,
      );
    }
    const own = nameRefs(spec.imagePullSecrets);
    const inherited = nameRefs(account.imagePullSecrets);
    if (own.length === 0 && inherited.length) spec.imagePullSecrets = inherited;
  }
}

/**
 * On a pod update, what admission set at create stays when the update leaves it out, so the same
 * manifest applied or PUT again is no change: Kubernetes' v1 conversion makes `serviceAccount` a
 * mirror of `serviceAccountName` rather than a field of its own, and the account's imagePullSecrets
 * were never in the manifest.
 */
export function keepAdmittedServiceAccount(next: KubeObject, current: KubeObject): void {
  if (next.kind !== 'Pod') return;
  const n = (next.spec ??= {});
  const c = current.spec ?? {};
  if (!n.serviceAccountName) n.serviceAccountName = n.serviceAccount || c.serviceAccountName;
  if (n.serviceAccountName === undefined) delete n.serviceAccountName;
  if (n.serviceAccount === undefined && c.serviceAccount !== undefined && n.serviceAccountName === c.serviceAccountName)
    n.serviceAccount = c.serviceAccount;
  if (n.imagePullSecrets === undefined && c.imagePullSecrets !== undefined) n.imagePullSecrets = c.imagePullSecrets;
}

/** The `default` ServiceAccount of a namespace, as Kubernetes' service account controller makes it. */
export function defaultServiceAccount(namespace: string): KubeObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace } };
}
