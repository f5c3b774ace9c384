import { UnsupportedMediaTypeError } from '../errors.js';

/**
 * Just enough of Kubernetes' protobuf encoding to accept what kubectl's typed clients send as
 * protobuf: the `k8s\0` envelope (runtime.Unknown), an object's ObjectMeta (`kubectl create
 * namespace`), DeleteOptions (a delete's body) and Eviction (`kubectl drain`). Kinds whose spec
 * matters are refused with 415 and a hint to send JSON or YAML.
 */

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Field = { n: number; wire: number; bytes?: Buffer; int?: bigint };

/** A varint, exactly (a negative int64 takes ten bytes, beyond a double's precision). */
function readVarint(b: Buffer, at: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  let i = at;
  for (;;) {
    const byte = b[i++];
    if (byte === undefined) throw new UnsupportedMediaTypeError(`${PROTOBUF_MEDIA_TYPE} (truncated message)`);
    value |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return [value, i];
    shift += 7n;
  }
}

function fields(b: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  while (i < b.length) {
    const [tag, next] = readVarint(b, i);
    i = next;
    const n = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === 0) {
      const [v, after] = readVarint(b, i);
      out.push({ n, wire, int: v });
      i = after;
    } else if (wire === 2) {
      const [len, after] = readVarint(b, i);
      out.push({ n, wire, bytes: b.subarray(after, after + Number(len)) });
      i = after + Number(len);
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new UnsupportedMediaTypeError(`${PROTOBUF_MEDIA_TYPE} (unsupported wire type ${wire})`);
  }
  return out;
}

const str = (f: Field | undefined) => (f?.bytes ? f.bytes.toString('utf8') : undefined);
const first = (fs: Field[], n: number) => fs.find((f) => f.n === n);

function map(fs: Field[], n: number): Record<string, string> | undefined {
  const entries = fs.filter((f) => f.n === n && f.bytes).map((f) => fields(f.bytes as Buffer));
  if (!entries.length) return undefined;
  return Object.fromEntries(entries.map((e) => [str(first(e, 1)) ?? '', str(first(e, 2)) ?? '']));
}

/** An int64 varint: negative numbers arrive as their 64-bit two's complement. */
const int64 = (f: Field | undefined) => (f?.int === undefined ? undefined : Number(BigInt.asIntN(64, f.int)));

/** Kinds fully described by their ObjectMeta (their spec is empty or defaulted), and the options kubectl's typed clients send. */
const METADATA_ONLY = new Set(['Namespace']);
const DELETE_OPTIONS = 'DeleteOptions';
const EVICTION = 'Eviction';

/** The `k8s\0` envelope (runtime.Unknown): the TypeMeta and the object's own bytes. */
function unwrap(body: Buffer): { apiVersion: string; kind: string; object: Field[] } {
  if (!body.subarray(0, 4).equals(MAGIC)) throw new UnsupportedMediaTypeError(`${PROTOBUF_MEDIA_TYPE} (missing k8s envelope)`);
  const unknown = fields(body.subarray(4));
  const typeMeta = fields(first(unknown, 1)?.bytes ?? Buffer.alloc(0));
  return { apiVersion: str(first(typeMeta, 1)) ?? '', kind: str(first(typeMeta, 2)) ?? '', object: fields(first(unknown, 2)?.bytes ?? Buffer.alloc(0)) };
}

function objectMeta(meta: Field[]): Record<string, unknown> {
  const metadata: Record<string, unknown> = {};
  const set = (k: string, v: unknown) => {
    if (v !== undefined && v !== '') metadata[k] = v;
  };
  set('name', str(first(meta, 1)));
  set('generateName', str(first(meta, 2)));
  set('namespace', str(first(meta, 3)));
  set('labels', map(meta, 11));
  set('annotations', map(meta, 12));
  const finalizers = meta.filter((f) => f.n === 14).map(str);
  if (finalizers.length) metadata.finalizers = finalizers;
  return metadata;
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
  if (kind === EVICTION) return { apiVersion, kind, metadata: objectMeta(fields(first(object, 1)?.bytes ?? Buffer.alloc(0))), deleteOptions: deleteOptionsOf(fields(first(object, 2)?.bytes ?? Buffer.alloc(0))) };
  if (!METADATA_ONLY.has(kind))
    throw new UnsupportedMediaTypeError(`${PROTOBUF_MEDIA_TYPE} for ${kind || 'this kind'}; kumo reads JSON and YAML (use kubectl apply -f or create -f with a manifest)`);
  return { apiVersion, kind, metadata: objectMeta(fields(first(object, 1)?.bytes ?? Buffer.alloc(0))) };
}
