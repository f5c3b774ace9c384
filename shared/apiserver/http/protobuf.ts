import { UnsupportedMediaTypeError } from '../../model/errors.js';
import { decodeMessage } from './protobuf-kinds.js';
import { BODY_SCHEMAS } from '../../model/protobuf-schemas.js';
import { typeByKindName, typeForKind } from '../../model/kinds.js';
import { fields, first, PROTOBUF_MEDIA_TYPE, str, type Field } from './protobuf-wire.js';

/**
 * Just enough of Kubernetes' protobuf encoding to accept what kubectl's typed clients send as
 * protobuf: the `k8s\0` envelope (runtime.Unknown), the objects of `kubectl create <kind>` for kinds
 * that declare their message (model/kinds), DeleteOptions (a delete's body) and Eviction (`kubectl drain`). Other kinds are refused with 415 and a hint to send JSON or YAML.
 */

export { PROTOBUF_MEDIA_TYPE };
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** The `k8s\0` envelope (runtime.Unknown): the TypeMeta and the object's own bytes. */
function unwrap(body: Buffer): { apiVersion: string; kind: string; object: Field[] } {
  if (!body.subarray(0, 4).equals(MAGIC))
    throw new UnsupportedMediaTypeError(`${PROTOBUF_MEDIA_TYPE} (missing k8s envelope)`);
  const unknown = fields(body.subarray(4));
  const typeMeta = fields(first(unknown, 1)?.bytes ?? Buffer.alloc(0));
  return {
    apiVersion: str(first(typeMeta, 1)) ?? '',
    kind: str(first(typeMeta, 2)) ?? '',
    object: fields(first(unknown, 2)?.bytes ?? Buffer.alloc(0)),
  };
}

export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  const { apiVersion, kind, object } = unwrap(body);
  const schema = (typeForKind(apiVersion, kind) ?? typeByKindName(kind))?.protobuf ?? BODY_SCHEMAS[kind];
  if (!schema)
    throw new UnsupportedMediaTypeError(
      `${PROTOBUF_MEDIA_TYPE} for ${kind || 'this kind'}; kumo reads JSON and YAML (use kubectl apply -f or create -f with a manifest)`,
    );
  return { apiVersion, kind, ...decodeMessage(object, schema) };
}
