/**
 * Writes shared/model/schemas/field-catalog.json: every field of the served kinds, as Kubernetes
 * 1.3x defines them, taken from @kubernetes/client-node's generated models (its attribute type maps
 * come from Kubernetes' own OpenAPI). The server's field validation (fieldValidation=Strict|Warn|Ignore)
 * reads it. Run `npm run generate:fields` after upgrading @kubernetes/client-node;
 * test/unit/apiserver/field-validation.test.ts fails when the checked-in file is stale.
 *
 * Catalog format: types[Name] = { jsonField: ref }, where ref is a type name, "[ref" (array of),
 * "{ref" (map of), "int32" or "int64" (an integer of Kubernetes' Go type, bounds checked at admission),
 * "string", "boolean", "number", "date" (an RFC 3339 string) or "*" (int-or-string, or a free-form
 * value, not looked into). The roots are the served kinds' `openApi` models (shared/model/kinds).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as models from '@kubernetes/client-node';
import { catalogKeyOf, RESOURCE_TYPES } from '../shared/model/kinds.js';

export const ROOTS: Record<string, string> = Object.fromEntries(
  RESOURCE_TYPES.map((t) => [catalogKeyOf(t), t.openApi]),
);

type Model = { getAttributeTypeMap?: () => { baseName: string; type: string; format?: string }[] };
const registry = models as unknown as Record<string, Model | undefined>;

function ref(type: string, queue: string[], format = ''): string {
  const array = /^Array<(.+)>$/.exec(type);
  if (array?.[1]) return `[${ref(array[1], queue, format)}`;
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map?.[1]) return `{${ref(map[1], queue, format)}`;
  if (type === 'number') return format === 'int32' || format === 'int64' ? format : 'number';
  if (type === 'string' || type === 'boolean') return type;
  if (type === 'Date') return 'date';
  if (registry[type]?.getAttributeTypeMap) {
    queue.push(type);
    return type;
  }
  return '*';
}

export function buildCatalog() {
  const types: Record<string, Record<string, string>> = {};
  const queue = Object.values(ROOTS);
  while (queue.length) {
    const name = queue.pop() as string;
    if (types[name]) continue;
    const fields: Record<string, string> = {};
    types[name] = fields;
    for (const a of registry[name]?.getAttributeTypeMap?.() ?? []) fields[a.baseName] = ref(a.type, queue, a.format);
  }
  const sorted = Object.fromEntries(Object.entries(types).sort(([a], [b]) => a.localeCompare(b)));
  return { source: '@kubernetes/client-node models', roots: ROOTS, types: sorted };
}

export const CATALOG_FILE = join(import.meta.dirname, '..', 'shared', 'model', 'schemas', 'field-catalog.json');

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  writeFileSync(CATALOG_FILE, JSON.stringify(buildCatalog(), null, 1) + '\n');
  console.log(`wrote ${CATALOG_FILE}`);
}
