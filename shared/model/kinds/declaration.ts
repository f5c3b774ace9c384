import type { z } from 'zod';
import type { StatusCause } from '../errors.js';
import type { Column } from '../printers.js';
import type { Schema } from '../protobuf-schemas.js';
import type { KubeObject } from '../types.js';

/**
 * A served kind, declared once (ARCHITECTURE.md §9): its identity (what routing, discovery, storage
 * keys, RBAC and messages read) and the optional hooks that give it behaviour at admission and in
 * printing. A kind whose behaviour is "store it, validate it against Kubernetes' schema, print it"
 * is one declaration: its fields come from Kubernetes' OpenAPI (the field catalog), so Strict field
 * validation, integer bounds and JSON types are checked without a hand-written schema.
 */

export interface Subresource {
  name: string;
  kind: string;
  group: string;
  version: string;
  verbs: string[];
}

/** Who a kind is: what routing, discovery, storage keys and messages read. */
export interface KindIdentity {
  kind: string;
  listKind: string;
  group: string; // "" is the core group
  version: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  subresources: Subresource[];
  /** Whether the object has a `status` that only the status subresource may write. */
  hasStatus: boolean;
}

export interface KindDeclaration extends KindIdentity {
  /** Kubernetes' OpenAPI definition of the kind (client-node's model name, e.g. V1Lease): the field catalog's root. */
  openApi: string;
  /** Names are DNS-1123 labels rather than subdomains (a namespace is a DNS zone, a service a host name). */
  nameIsLabel: boolean;
  /** Names are any single path segment (RBAC's ValidateRBACName: `system:aggregate-to-edit`). */
  nameIsPathSegment?: boolean;
  /**
   * A hand-written shape (zod) for kinds with behaviour: required fields, enums and cross-field rules
   * Kubernetes' validation has. Without one, every field is checked against the catalog's JSON types.
   */
  schema?: z.ZodType;
  /** Semantic validation beyond the shape (Kubernetes' ValidateX), as field causes. */
  validate?: (o: KubeObject) => StatusCause[];
  /** Checks Kubernetes makes on create only (ValidateXCreate beyond ValidateX), as field causes. */
  validateCreate?: (o: KubeObject) => StatusCause[];
  /** Kubernetes' SetDefaults_X, in place on an object the caller owns. */
  defaults?: (o: KubeObject) => void;
  /**
   * Kind-specific admission after defaulting, on create and update (`creating` says which): write-only
   * fields folded in (a Secret's stringData), fields generated from the object's uid (a Job's selector).
   */
  admit?: (o: KubeObject, ctx: { uid: string; creating: boolean; previous?: KubeObject }) => void;
  /** The status a new object starts with (else status is written only through the status subresource). */
  initialStatus?: (o: KubeObject) => Record<string, unknown>;
  /** `kubectl get` columns, as kube-apiserver's printers (pkg/printers/internalversion) print them. */
  columns?: Column[];
  /**
   * Change routing: a controller reconciles objects of this kind, so each change enqueues the object's
   * own key. Without it a change concerns only its owners and the garbage collector (events/dispatch.ts),
   * and costs no queue message of its own.
   */
  reconciled?: boolean;
  /**
   * What kumo stores of this kind but does not act on yet. Every write of one answers it as a Warning
   * (kubectl prints it), so a user is told rather than left to find out: nothing is accepted and
   * silently ignored.
   */
  notEnforced?: string;
  /** Kubernetes' edit role reads these but does not write them (quotas and limits are the cluster administrator's). */
  editRoleReadOnly?: boolean;
  /** Kubernetes' admin role reads and writes these; edit and view do neither (Roles and RoleBindings). */
  adminRoleOnly?: boolean;
  /**
   * This declaration serves an older version of a kind declared before it (the storage version):
   * objects are converted on the way in and out, and stored, validated and reconciled as that version.
   */
  conversion?: { toStored: (o: KubeObject) => KubeObject; fromStored: (o: KubeObject) => KubeObject };
  /** How the kind's protobuf body reads, for what kubectl's typed clients send as protobuf (`kubectl create <kind>`). */
  protobuf?: Schema;
}

/** A served kind, as every layer passes it around: its identity with its hooks. */
export type ResourceType = KindDeclaration;

export const statusSub = (kind: string, group: string, version: string): Subresource => ({
  name: 'status',
  kind,
  group,
  version,
  verbs: ['get', 'patch', 'update'],
});

/** autoscaling/v1 Scale: what `kubectl scale` and autoscalers read and write of a workload. */
export const scaleSub: Subresource = {
  name: 'scale',
  kind: 'Scale',
  group: 'autoscaling',
  version: 'v1',
  verbs: ['get', 'patch', 'update'],
};

export interface DeclarationOptions extends Omit<
  Partial<KindDeclaration>,
  'kind' | 'group' | 'version' | 'plural' | 'subresources' | 'hasStatus' | 'categories'
> {
  openApi: string;
  /** In the `all` category (`kubectl get all`). */
  all?: boolean;
  /** Has a status subresource. */
  status?: boolean;
  /** Subresources beyond status. */
  extra?: Subresource[];
}

export function declareKind(
  kind: string,
  group: string,
  version: string,
  plural: string,
  opts: DeclarationOptions,
): KindDeclaration {
  const { all, status, extra, namespaced, shortNames, nameIsLabel, ...hooks } = opts;
  return {
    kind,
    listKind: `${kind}List`,
    group,
    version,
    plural,
    singular: kind.toLowerCase(),
    namespaced: namespaced ?? true,
    shortNames: shortNames ?? [],
    categories: all ? ['all'] : [],
    subresources: [...(status ? [statusSub(kind, group, version)] : []), ...(extra ?? [])],
    hasStatus: status ?? false,
    nameIsLabel: nameIsLabel ?? false,
    ...hooks,
  };
}
