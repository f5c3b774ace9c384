import { APPS_KINDS } from './kinds/apps.js';
import { AUTOSCALING_KINDS } from './kinds/autoscaling.js';
import { BATCH_KINDS } from './kinds/batch.js';
import { BUILTIN_KINDS } from './kinds/builtin.js';
import type { KindDeclaration } from './kinds/declaration.js';
import { PLAIN_KINDS } from './kinds/plain.js';
import { POLICY_KINDS } from './kinds/policy.js';
import { RBAC_KINDS } from './kinds/rbac.js';
import { STORAGE_KINDS } from './kinds/storage.js';

/**
 * The kinds kumo serves, each declared once (model/kinds/): routing, discovery, OpenAPI, storage
 * keys, validation, defaulting, printing and messages all read this registry.
 */

export type { KindDeclaration, KindIdentity, ResourceType, Subresource } from './kinds/declaration.js';

export const RESOURCE_TYPES: readonly KindDeclaration[] = [
  ...BUILTIN_KINDS,
  ...APPS_KINDS,
  ...BATCH_KINDS,
  ...PLAIN_KINDS,
  ...POLICY_KINDS,
  ...AUTOSCALING_KINDS,
  ...STORAGE_KINDS,
  ...RBAC_KINDS,
];

export const apiVersionOf = (t: { group: string; version: string }) =>
  t.group ? `${t.group}/${t.version}` : t.version;

const byKind = new Map(RESOURCE_TYPES.map((t) => [`${apiVersionOf(t)}/${t.kind}`, t]));
const byResource = new Map(RESOURCE_TYPES.map((t) => [`${t.group}/${t.version}/${t.plural}`, t]));

/** The declaration that stores what a view declaration serves (itself for a storage version). */
export const storageTypeOf = (t: KindDeclaration): KindDeclaration =>
  t.conversion ? (byKindName.get(t.kind) ?? t) : t;

export function typeForKind(apiVersion: string, kind: string): KindDeclaration | undefined {
  return byKind.get(`${apiVersion}/${kind}`);
}

export function typeForResource(group: string, version: string, plural: string): KindDeclaration | undefined {
  return byResource.get(`${group}/${version}/${plural}`);
}

// A kind's name means its storage version: other versions of it are views (`conversion`) over that one.
const byKindName = new Map(RESOURCE_TYPES.filter((t) => !t.conversion).map((t) => [t.kind, t]));

export function typeByKindName(kind: string): KindDeclaration | undefined {
  return byKindName.get(kind);
}

/** A kind kumo serves by name, for code that names a built-in kind (a typo is a programming error). */
export function kindNamed(kind: string): KindDeclaration {
  const t = byKindName.get(kind);
  if (!t) throw new Error(`kumo does not serve a kind named ${kind}`);
  return t;
}

/** The group/version pairs served, for discovery. */
export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const t of RESOURCE_TYPES) seen.set(apiVersionOf(t), { group: t.group, version: t.version });
  return [...seen.values()];
}

/** The field catalog's root for a declaration: its kind, or for an older version served as a view `<apiVersion>/<kind>`. */
export const catalogKeyOf = (t: KindDeclaration) => (t.conversion ? `${apiVersionOf(t)}/${t.kind}` : t.kind);
