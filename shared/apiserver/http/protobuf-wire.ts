import { UnsupportedMediaTypeError } from '../../model/errors.js';

/** Protobuf's wire format, read into fields: what kumo's decoders of Kubernetes messages build on. */

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

export type Field = { n: number; wire: number; bytes?: Buffer; int?: bigint };

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

export function fields(b: Buffer): Field[] {
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

export const str = (f: Field | undefined) => (f?.bytes ? f.bytes.toString('utf8') : undefined);
export const first = (fs: Field[], n: number) => fs.find((f) => f.n === n);
