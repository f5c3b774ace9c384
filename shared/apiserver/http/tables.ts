import type { KubeObject } from '../../model/types.js';
import { ageColumn, nameColumn } from '../../model/printers.js';
import { typeByKindName } from '../../model/kinds.js';

/**
 * Server-side printing: `kubectl get` asks for a meta.k8s.io/v1 Table and prints the columns the
 * server chose (each kind's `columns`), the way kube-apiserver's printers do. Priority-1 columns appear with `-o wide`.
 */

export const wantsTable = (accept: string | undefined) =>
  /as=Table/.test(accept ?? '') && /g=meta\.k8s\.io/.test(accept ?? '');
export const TABLE_CONTENT_TYPE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

/** A Table of `items` (one object for a GET); `includeObject` is None, Metadata (default) or Object. */
export function toTable(
  kind: string,
  items: KubeObject[],
  meta: { resourceVersion?: string; continue?: string },
  now: number,
  includeObject = 'Metadata',
) {
  const columns = typeByKindName(kind)?.columns ?? [nameColumn, ageColumn];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: meta,
    columnDefinitions: columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.description,
      priority: c.priority ?? 0,
    })),
    rows: items.map((o) => ({
      cells: columns.map((c) => c.cell(o, now)),
      object:
        includeObject === 'None'
          ? undefined
          : includeObject === 'Object'
            ? o
            : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}
