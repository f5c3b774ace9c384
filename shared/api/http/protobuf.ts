import { UnsupportedMediaTypeError } from '../errors.js';
import { decodeMessage, KIND_SCHEMAS, OBJECT_META } from './protobuf-kinds.js';
import { fields, first, PROTOBUF_MEDIA_TYPE, str, type Field } from './protobuf-wire.js';

/**
 * Just enough of Kubernetes' protobuf encoding to accept what kubectl's typed clients send as
 * protobuf: the `k8s\0` envelope (runtime.Unknown), the objects of `kubectl create namespace|
 * deployment|job|configmap|secret|service` (protobuf-kinds.ts), DeleteOptions (a delete's body) and
 * Eviction (`kubectl drain`). Other kinds are refused with 415 and a hint to send JSON or YAML.
 */

export { PROTOBUF_MEDIA_TYPE };
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** An int64 varint: negative numbers arrive as their 64-bit two's complement. */
const int64 = (f: Field | undefined) => (f?.int === undefined ? undefined : Number(BigInt.asIntN(64, f.int)));

const DELETE_OPTIONS = 'DeleteOptions';
const EVICTION = 'Eviction';

/** The `k8s\0` envelope (runtime.Unknown): the TypeMeta and the object's own bytes. */
function unwrap(body: Buffer): { apiVersion: string; kind: string; object: Field[] } {
  if (!body.subarray(0, 4).equals(MAGIC)) throw new UnsupportedMediaTypeError(`${PROTOBUF_MEDIA_TYPE} (missing k8s envelope)`);
  const unknown = fields(body.subarray(4));
  const typeMeta = fields(first(unknown, 1)?.bytes ?? Buffer.alloc(0));
  return { apiVersion: str(first(typeMeta, 1)) ?? '', kind: str(first(typeMeta, 2)) ?? '', object: fields(first(unknown, 2)?.bytes ?? Buffer.alloc(0)) };
}

/** meta/v1 DeleteOptions: gracePeriodSeconds 1, preconditions 2 (uid 1, resourceVersion 2), orphanDependents 3, propagationPolicy 4, dryRun 5. */
function deleteOptionsOf(o: Field[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const grace = int64(first(o, 1));
  if (grace !== undefined) out.gracePeriodSeconds = grace;
  const pre = first(o, 2)?.bytes;
  if (pre) {
    const p = fields(pre);
    out.preconditions = Object.fromEntries(
      [
        ['uid', str(first(p, 1))],
        ['resourceVersion', str(first(p, 2))],
      ].filter(([, v]) => v !== undefined),
    );
  }
  const orphan = first(o, 3)?.int;
  if (orphan !== undefined) out.orphanDependents = orphan === 1n;
  const policy = str(first(o, 4));
  if (policy) out.propagationPolicy = policy;
  const dryRun = o.filter((f) => f.n === 5).map(str);
  if (dryRun.length) out.dryRun = dryRun;
  return out;
}

export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  const { apiVersion, kind, object } = unwrap(body);
  if (kind === DELETE_OPTIONS) return { apiVersion, kind, ...deleteOptionsOf(object) };
  // policy/v1 Eviction: metadata 1, deleteOptions 2 (what `kubectl drain` posts).
  if (kind === EVICTION) return { apiVersion, kind, metadata: decodeMessage(fields(first(object, 1)?.bytes ?? Buffer.alloc(0)), OBJECT_META) ?? {}, deleteOptions: deleteOptionsOf(fields(first(object, 2)?.bytes ?? Buffer.alloc(0))) };
  const schema = KIND_SCHEMAS[kind];
  if (!schema) throw new UnsupportedMediaTypeError(`${PROTOBUF_MEDIA_TYPE} for ${kind || 'this kind'}; kumo reads JSON and YAML (use kubectl apply -f or create -f with a manifest)`);
  return { apiVersion, kind, ...decodeMessage(object, schema) };
}
