import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { canonical, isPlainObject, jsonEqual } from '../model/json.js';
import type { KubeObject } from '../model/types.js';
import { fnv1a } from '../util/hash.js';
import { NAME_ALPHABET } from '../util/names.js';
import { CLAIM_ANNOTATION } from './claim.js';

/**
 * A workload's template history as ControllerRevisions (apps/v1), as Kubernetes' pkg/controller/history
 * keeps it for StatefulSets and DaemonSets: one revision per distinct template, numbered in the order
 * they became the update target, so `kubectl rollout history|undo` can list and re-apply them. Pure.
 */

export const REVISION_KIND = 'ControllerRevision';
/** ControllerRevisionHashLabel: a StatefulSet revision's own hash, among its template's labels. */
export const STATEFULSET_HASH_LABEL = 'controller.kubernetes.io/hash';

/** What a revision holds: a strategic merge patch that puts its template back (the StatefulSet controller's getPatch). */
export interface RevisionData {
  spec: { template: PodTemplateSpec & { $patch: 'replace' } };
}

export function revisionData(template: PodTemplateSpec | undefined): RevisionData {
  return { spec: { template: { ...structuredClone(template ?? {}), $patch: 'replace' } } };
}

/** The template a revision holds (what its pods were made from). */
export function revisionTemplate(revision: KubeObject): PodTemplateSpec {
  const data = revision.data;
  const spec = isPlainObject(data) && isPlainObject(data.spec) ? data.spec : {};
  const template = isPlainObject(spec.template) ? spec.template : {};
  const { $patch: _directive, ...rest } = template;
  return rest;
}

/**
 * HashControllerRevision: FNV-32a over the data (and the collision count, when there is one), its decimal
 * digits spelled in the generateName alphabet (apimachinery's rand.SafeEncodeString).
 */
export function revisionHash(data: RevisionData, collisionCount = 0): string {
  const text = canonicalJson(data) + (collisionCount ? String(collisionCount) : '');
  return [...String(fnv1a(text))].map((digit) => NAME_ALPHABET[digit.charCodeAt(0) % NAME_ALPHABET.length]).join('');
}

/** ControllerRevisionName: the parent's name (cut to 223 characters) and the hash. */
export const revisionName = (parent: string, hash: string) => `${parent.slice(0, 223)}-${hash}`;

export const revisionNumber = (revision: KubeObject) => Number(revision.revision ?? 0);

/** A new revision of `parent`'s template, controlled by it and labelled as its pods are. */
export function newRevision(
  parent: KubeObject & { metadata: { name: string; uid: string } },
  template: PodTemplateSpec | undefined,
  revision: number,
  collisionCount = 0,
  /** Where the revision carries its hash: StatefulSets' controller.kubernetes.io/hash, DaemonSets' controller-revision-hash. */
  hashLabel = STATEFULSET_HASH_LABEL,
): KubeObject & { metadata: { name: string } } {
  const data = revisionData(template);
  const hash = revisionHash(data, collisionCount);
  // The parent's annotations go with it: `kubectl rollout history` reads kubernetes.io/change-cause there.
  const { [CLAIM_ANNOTATION]: _claim, ...annotations } = parent.metadata.annotations ?? {};
  return {
    apiVersion: 'apps/v1',
    kind: REVISION_KIND,
    metadata: {
      name: revisionName(parent.metadata.name, hash),
      namespace: parent.metadata.namespace,
      labels: { ...template?.metadata?.labels, [hashLabel]: hash },
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ownerReferences: [
        {
          apiVersion: parent.apiVersion,
          kind: parent.kind,
          name: parent.metadata.name,
          uid: parent.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    // Keys sorted as Go's encoder writes them: kubectl compares a revision's bytes with the set's template.
    data: canonical(data),
    revision,
  };
}

/** SortControllerRevisions: by revision number, then creation time, then name. */
export function sortRevisions<T extends KubeObject>(revisions: readonly T[]): T[] {
  return [...revisions].sort(
    (a, b) =>
      revisionNumber(a) - revisionNumber(b) ||
      Date.parse(a.metadata.creationTimestamp ?? '') - Date.parse(b.metadata.creationTimestamp ?? '') ||
      (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
}

/** The revisions holding the same template (EqualRevision compares the data). */
export const equalRevisions = <T extends KubeObject>(revisions: readonly T[], template: PodTemplateSpec | undefined) =>
  revisions.filter((r) => jsonEqual(canonical(r.data), canonical(revisionData(template))));

export const nextRevisionNumber = (sorted: readonly KubeObject[]) =>
  sorted.length ? revisionNumber(sorted[sorted.length - 1] as KubeObject) + 1 : 1;

/**
 * The revisions to delete beyond `limit` (truncateHistory): never a live one (the current or update
 * revision, or one a pod still carries), and the oldest first.
 */
export function excessRevisions(sorted: readonly KubeObject[], live: ReadonlySet<string>, limit: number): string[] {
  // A negative limit keeps every revision (Kubernetes 1.32.1 on; 1.32.0 panicked).
  if (limit < 0) return [];
  const history = sorted.filter((r) => !live.has(r.metadata.name ?? ''));
  return history.slice(0, Math.max(0, history.length - limit)).map((r) => r.metadata.name ?? '');
}

const canonicalJson = (v: unknown) => JSON.stringify(canonical(v));
