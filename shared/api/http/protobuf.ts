import { UnsupportedMediaTypeError } from '../errors.js';

/**
 * Just enough of Kubernetes' protobuf encoding to accept what kubectl's typed clients send as
 * protobuf (`kubectl create namespace` does): the `k8s\0` envelope (runtime.Unknown) and an object's
 * ObjectMeta. Kinds whose spec matters are refused with 415 and a hint to send JSON or YAML.
 */

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Field = { n: number; wire: number; bytes?: Buffer; int?: number };

function readVarint(b: Buffer, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    const byte = b[i++];
    if (byte === undefined) throw new UnsupportedMediaTypeError(`${PROTOBUF_MEDIA_TYPE} (truncated message)`);
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, i];
    shift += 7;
  }
}

function fields(b: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  while (i < b.length) {
    const [tag, next] = readVarint(b, i);
    i = next;
    const n = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) {
      const [v, after] = readVarint(b, i);
      out.push({ n, wire, int: v });
      i = after;
    } else if (wire === 2) {
      const [len, after] = readVarint(b, i);
      out.push({ n, wire, bytes: b.subarray(after, after + len) });
      i = after + len;
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

/** Kinds fully described by their ObjectMeta (their spec is empty or defaulted). */
const METADATA_ONLY = new Set(['Namespace']);

export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (!body.subarray(0, 4).equals(MAGIC)) throw new UnsupportedMediaTypeError(`${PROTOBUF_MEDIA_TYPE} (missing k8s envelope)`);
  const unknown = fields(body.subarray(4));
  const typeMeta = fields(first(unknown, 1)?.bytes ?? Buffer.alloc(0));
  const apiVersion = str(first(typeMeta, 1)) ?? '';
  const kind = str(first(typeMeta, 2)) ?? '';
  if (!METADATA_ONLY.has(kind))
    throw new UnsupportedMediaTypeError(`${PROTOBUF_MEDIA_TYPE} for ${kind || 'this kind'}; kumo reads JSON and YAML (use kubectl apply -f or create -f with a manifest)`);
  const object = fields(first(unknown, 2)?.bytes ?? Buffer.alloc(0));
  const meta = fields(first(object, 1)?.bytes ?? Buffer.alloc(0));
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
  return { apiVersion, kind, metadata };
}
