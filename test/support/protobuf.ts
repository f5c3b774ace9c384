/** A minimal protobuf writer for tests: builds the messages kubectl's typed clients send. */
export type PbValue = string | Buffer | bigint | boolean;

function varint(n: bigint): Buffer {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return Buffer.from(out);
}

/** One field: strings and nested messages length-delimited, integers and booleans as varints. */
export function pbField(n: number, value: PbValue): Buffer {
  if (typeof value === 'bigint' || typeof value === 'boolean') return Buffer.concat([varint(BigInt(n * 8)), varint(typeof value === 'boolean' ? (value ? 1n : 0n) : value)]);
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([varint(BigInt(n * 8 + 2)), varint(BigInt(bytes.length)), bytes]);
}

export const pbMessage = (...fields: Buffer[]) => Buffer.concat(fields);

/** The `k8s\0` envelope (runtime.Unknown) around an object of the given type. */
export const k8sEnvelope = (apiVersion: string, kind: string, object: Buffer) =>
  Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), pbField(1, pbMessage(pbField(1, apiVersion), pbField(2, kind))), pbField(2, object)]);
