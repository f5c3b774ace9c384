import { cause, type StatusCause } from '../errors.js';
import { nameColumn, ageColumn, type Column } from '../printers.js';
import { LABEL_SELECTOR, OBJECT_META, type Schema } from '../protobuf-schemas.js';
import { dns1123Subdomain, pathSegmentName } from '../names.js';
import { RBAC_GROUP, roleRefOf, subjectsOf, type RoleRef } from '../rbac.js';
import type { KubeObject } from '../types.js';
import { declareKind, type KindDeclaration } from './declaration.js';
import { selectorRequirementCauses } from '../selector-validation.js';

/**
 * rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding, ClusterRoleBinding. Validation is
 * pkg/apis/rbac/validation/validation.go, defaults pkg/apis/rbac/v1/defaults.go, columns
 * pkg/printers/internalversion/printers.go; the authorizer that reads them is auth/rbac-policy.ts.
 */

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s) => typeof s === 'string') : []);
const required = (field: string, detail: string): StatusCause => ({
  ...cause.required(field),
  ...(detail ? { message: `Required value: ${detail}` } : {}),
});

/** ValidatePolicyRule. */
function ruleCauses(rules: unknown, namespaced: boolean): StatusCause[] {
  if (!Array.isArray(rules)) return [];
  return rules.flatMap((r, i): StatusCause[] => {
    const rule = obj(r);
    const at = `rules[${i}]`;
    const out: StatusCause[] = [];
    if (strings(rule.verbs).length === 0) out.push(required(`${at}.verbs`, 'verbs must contain at least one value'));
    const urls = strings(rule.nonResourceURLs);
    if (urls.length > 0) {
      if (namespaced)
        out.push(cause.invalid(`${at}.nonResourceURLs`, urls, 'namespaced rules cannot apply to non-resource URLs'));
      if (strings(rule.apiGroups).length || strings(rule.resources).length || strings(rule.resourceNames).length)
        out.push(
          cause.invalid(
            `${at}.nonResourceURLs`,
            urls,
            'rules cannot apply to both regular resources and non-resource URLs',
          ),
        );
      return out;
    }
    if (strings(rule.apiGroups).length === 0)
      out.push(required(`${at}.apiGroups`, 'resource rules must supply at least one api group'));
    if (strings(rule.resources).length === 0)
      out.push(required(`${at}.resources`, 'resource rules must supply at least one resource'));
    return out;
  });
}

/** ValidateRoleBindingSubject; a ClusterRoleBinding's ServiceAccount subjects must name their namespace. */
function subjectCauses(o: KubeObject, namespaced: boolean): StatusCause[] {
  const subjects = o.subjects;
  if (!Array.isArray(subjects)) return [];
  return subjects.flatMap((s, i): StatusCause[] => {
    const sub = obj(s);
    const at = `subjects[${i}]`;
    const out: StatusCause[] = [];
    const name = typeof sub.name === 'string' ? sub.name : '';
    if (!name) out.push(required(`${at}.name`, ''));
    switch (sub.kind) {
      case 'ServiceAccount':
        if (name) for (const e of dns1123Subdomain(name)) out.push(cause.invalid(`${at}.name`, name, e));
        if (sub.apiGroup !== undefined && sub.apiGroup !== '')
          out.push(cause.notSupported(`${at}.apiGroup`, sub.apiGroup, ['']));
        if (!namespaced && !sub.namespace) out.push(required(`${at}.namespace`, ''));
        break;
      case 'User':
      case 'Group':
        if (sub.apiGroup !== RBAC_GROUP) out.push(cause.notSupported(`${at}.apiGroup`, sub.apiGroup, [RBAC_GROUP]));
        break;
      default:
        out.push(cause.notSupported(`${at}.kind`, sub.kind, ['ServiceAccount', 'User', 'Group']));
    }
    return out;
  });
}

/** ValidateRoleBinding / ValidateClusterRoleBinding: the role it names, and its subjects. */
function bindingCauses(o: KubeObject, namespaced: boolean): StatusCause[] {
  const ref = obj(o.roleRef);
  const out: StatusCause[] = [];
  if (ref.apiGroup !== RBAC_GROUP) out.push(cause.notSupported('roleRef.apiGroup', ref.apiGroup, [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind as string)) out.push(cause.notSupported('roleRef.kind', ref.kind, kinds));
  const name = typeof ref.name === 'string' ? ref.name : '';
  if (!name) out.push(required('roleRef.name', ''));
  else for (const e of pathSegmentName(name)) out.push(cause.invalid('roleRef.name', name, e));
  return [...out, ...subjectCauses(o, namespaced)];
}

/** SetDefaults_Subject and the roleRef's group: `kubectl create rolebinding --user` leaves them to the server. */
function defaultBinding(o: KubeObject): void {
  const ref = obj(o.roleRef);
  if (o.roleRef && ref.apiGroup === undefined) ref.apiGroup = RBAC_GROUP;
  if (Array.isArray(o.subjects))
    for (const s of o.subjects.map(obj))
      if (s.apiGroup === undefined) s.apiGroup = s.kind === 'User' || s.kind === 'Group' ? RBAC_GROUP : '';
}

/** The role a binding grants is fixed for its life: Kubernetes answers "cannot change roleRef". */
export function roleRefChangeCauses(next: KubeObject, current: KubeObject): StatusCause[] {
  const a = roleRefOf(next);
  const b = roleRefOf(current);
  const same = (x?: RoleRef, y?: RoleRef) => x?.apiGroup === y?.apiGroup && x?.kind === y?.kind && x?.name === y?.name;
  return same(a, b) ? [] : [cause.invalid('roleRef', next.roleRef, 'cannot change roleRef')];
}

/** printRole / printClusterRole: name and the creation time as a date. */
const createdAtColumn: Column = {
  name: 'Created At',
  type: 'string',
  format: 'date',
  description: 'Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.',
  cell: (o) => o.metadata.creationTimestamp ?? '',
};

/** printRoleBinding / printClusterRoleBinding: `Role/x`, then with -o wide the subjects by kind. */
const bindingColumns = (): Column[] => {
  const of = (o: KubeObject, kind: string) => subjectsOf(o).filter((s) => s.kind === kind);
  return [
    nameColumn,
    {
      name: 'Role',
      type: 'string',
      description: 'RoleRef is the reference to the role.',
      cell: (o) => {
        const r = roleRefOf(o);
        return r ? `${r.kind}/${r.name}` : '';
      },
    },
    ageColumn,
    {
      name: 'Users',
      type: 'string',
      priority: 1,
      description: 'Users in the binding.',
      cell: (o) =>
        of(o, 'User')
          .map((s) => s.name)
          .join(', '),
    },
    {
      name: 'Groups',
      type: 'string',
      priority: 1,
      description: 'Groups in the binding.',
      cell: (o) =>
        of(o, 'Group')
          .map((s) => s.name)
          .join(', '),
    },
    {
      name: 'ServiceAccounts',
      type: 'string',
      priority: 1,
      description: 'ServiceAccounts in the binding.',
      cell: (o) =>
        of(o, 'ServiceAccount')
          .map((s) => `${s.namespace ?? ''}/${s.name}`)
          .join(', '),
    },
  ];
};

/** k8s.io/api/rbac/v1 generated.proto, for `kubectl create role|clusterrole|rolebinding|clusterrolebinding`. */
const POLICY_RULE: Schema = {
  1: ['verbs', { repeated: 'string' }],
  2: ['apiGroups', { repeated: 'string' }],
  3: ['resources', { repeated: 'string' }],
  4: ['resourceNames', { repeated: 'string' }],
  5: ['nonResourceURLs', { repeated: 'string' }],
};
const BINDING_PROTOBUF: Schema = {
  1: ['metadata', OBJECT_META],
  2: [
    'subjects',
    {
      repeated: { 1: ['kind', 'string'], 2: ['apiGroup', 'string'], 3: ['name', 'string'], 4: ['namespace', 'string'] },
    },
  ],
  3: ['roleRef', { 1: ['apiGroup', 'string'], 2: ['kind', 'string'], 3: ['name', 'string'] }],
};

const rbacKind = (kind: string, plural: string, namespaced: boolean, rest: Partial<KindDeclaration>) =>
  declareKind(kind, RBAC_GROUP, 'v1', plural, {
    openApi: `V1${kind}`,
    namespaced,
    nameIsPathSegment: true,
    adminRoleOnly: true,
    ...rest,
  });

export const RBAC_KINDS: readonly KindDeclaration[] = [
  rbacKind('Role', 'roles', true, {
    validate: (o) => ruleCauses(o.rules, true),
    columns: [nameColumn, createdAtColumn],
    protobuf: { 1: ['metadata', OBJECT_META], 2: ['rules', { repeated: POLICY_RULE }] },
  }),
  rbacKind('ClusterRole', 'clusterroles', false, {
    validate: (o) => {
      const out = ruleCauses(o.rules, false);
      const agg = o.aggregationRule;
      const selectors = Array.isArray(obj(agg).clusterRoleSelectors)
        ? (obj(agg).clusterRoleSelectors as unknown[])
        : [];
      selectors.forEach((sel, i) =>
        out.push(...selectorRequirementCauses(sel, `aggregationRule.clusterRoleSelectors[${i}]`)),
      );
      if (
        agg !== undefined &&
        agg !== null &&
        !(Array.isArray(obj(agg).clusterRoleSelectors) && (obj(agg).clusterRoleSelectors as unknown[]).length)
      )
        out.push(
          required(
            'aggregationRule.clusterRoleSelectors',
            'at least one clusterRoleSelector required if aggregationRule is non-nil',
          ),
        );
      return out;
    },
    columns: [nameColumn, createdAtColumn],
    protobuf: {
      1: ['metadata', OBJECT_META],
      2: ['rules', { repeated: POLICY_RULE }],
      3: ['aggregationRule', { 1: ['clusterRoleSelectors', { repeated: LABEL_SELECTOR }] }],
    },
  }),
  rbacKind('RoleBinding', 'rolebindings', true, {
    defaults: defaultBinding,
    validate: (o) => bindingCauses(o, true),
    columns: bindingColumns(),
    protobuf: BINDING_PROTOBUF,
  }),
  rbacKind('ClusterRoleBinding', 'clusterrolebindings', false, {
    defaults: defaultBinding,
    validate: (o) => bindingCauses(o, false),
    columns: bindingColumns(),
    protobuf: BINDING_PROTOBUF,
  }),
];
