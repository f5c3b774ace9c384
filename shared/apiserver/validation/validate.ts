import { z } from 'zod';
import { cause, type StatusCause } from '../../model/errors.js';
import type { ResourceType } from '../../model/kinds.js';
import type { KubeObject } from '../../model/types.js';
import { dns1123Label, dns1123Subdomain, pathSegmentName } from '../../model/names.js';
import { schemaProblems } from '../../model/schemas/field-validation.js';
import { annotations, causesFrom, labels, loose } from '../../model/schemas/schema-kit.js';

export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

const ownerReference = loose({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  name: z.string().min(1),
  uid: z.string().min(1),
  controller: z.boolean().optional(),
});

const metadataSchema = loose({
  name: z.string().optional(),
  generateName: z.string().optional(),
  namespace: z.string().optional(),
  labels: labels.optional(),
  annotations: annotations.optional(),
  ownerReferences: z
    .array(ownerReference)
    .superRefine((refs, ctx) => {
      if (refs.filter((r) => r.controller).length > 1)
        ctx.addIssue({
          code: 'custom',
          message: 'Only one reference can have Controller set to true',
          params: { reason: 'FieldValueForbidden' },
        });
    })
    .optional(),
  finalizers: z.array(z.string()).optional(),
});

function metadataCauses(type: ResourceType, o: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  const name = o.metadata.name;
  if (name === undefined || name === '') out.push(cause.required('metadata.name'));
  else if (typeof name === 'string') {
    const errs = type.nameIsPathSegment
      ? pathSegmentName(name)
      : type.nameIsLabel
        ? dns1123Label(name)
        : dns1123Subdomain(name);
    for (const e of errs) out.push(cause.invalid('metadata.name', name, e));
  }
  if (type.namespaced && typeof o.metadata.namespace === 'string' && o.metadata.namespace)
    for (const e of dns1123Label(o.metadata.namespace))
      out.push(cause.invalid('metadata.namespace', o.metadata.namespace, e));
  if (!type.namespaced && o.metadata.namespace)
    out.push(cause.forbidden('metadata.namespace', 'not allowed on this type'));
  const parsed = metadataSchema.safeParse(o.metadata, { reportInput: true });
  if (!parsed.success) out.push(...causesFrom(parsed.error.issues, o.metadata, 'metadata'));
  const annotationBytes = Object.entries(o.metadata.annotations ?? {}).reduce(
    (n, [k, v]) => n + k.length + String(v).length,
    0,
  );
  if (annotationBytes > TOTAL_ANNOTATION_SIZE_LIMIT)
    out.push(cause.tooLong('metadata.annotations', TOTAL_ANNOTATION_SIZE_LIMIT));
  return out;
}

/** All problems with an object, as Kubernetes field causes (empty when valid). */
export function validationCauses(type: ResourceType, o: KubeObject): StatusCause[] {
  const out = metadataCauses(type, o);
  if (type.schema) {
    const parsed = type.schema.safeParse(o, { reportInput: true });
    if (!parsed.success) out.push(...causesFrom(parsed.error.issues, o));
  }
  // Integer bounds of every int32/int64 field, and, for a kind without a hand-written schema, the JSON
  // type of every field Kubernetes' OpenAPI defines; a field already faulted is not named twice.
  const named = new Set(out.map((c) => c.field));
  for (const p of schemaProblems(type.kind, o, { types: !type.schema }))
    if (!named.has(p.field)) out.push(cause.invalid(p.field, p.value, p.detail));
  // Semantic rules only on a well-formed object, as Kubernetes validates after decoding.
  if (!out.length && type.validate) out.push(...type.validate(o));
  return out;
}
