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
  if (typeof value === 'bigint' || typeof value === 'boolean')
    return Buffer.concat([varint(BigInt(n * 8)), varint(typeof value === 'boolean' ? (value ? 1n : 0n) : value)]);
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([varint(BigInt(n * 8 + 2)), varint(BigInt(bytes.length)), bytes]);
}

export const pbMessage = (...fields: Buffer[]) => Buffer.concat(fields);

/** The `k8s\0` envelope (runtime.Unknown) around an object of the given type. */
export const k8sEnvelope = (apiVersion: string, kind: string, object: Buffer) =>
  Buffer.concat([
    Buffer.from([0x6b, 0x38, 0x73, 0x00]),
    pbField(1, pbMessage(pbField(1, apiVersion), pbField(2, kind))),
    pbField(2, object),
  ]);

/** The body `kubectl create job j1 --image=busybox:1.36 -- echo hi` sends (kubectl 1.32, as `-v=9` printed it). */
export const KUBECTL_CREATE_JOB_BODY = Buffer.from(
  `6b 38 73 00 0a 0f 0a 08 62 61 74 63 68 2f 76 31 12 03 4a 6f 62 12 89 01 0a 12 0a 02 6a 31 12 00
   1a 00 22 00 2a 00 32 00 38 00 42 00 12 69 32 67 0a 10 0a 00 12 00 1a 00 22 00 2a 00 32 00 38 00 42 00 12 53 12 30 0a 02
   6a 31 12 0c 62 75 73 79 62 6f 78 3a 31 2e 33 36 1a 04 65 63 68 6f 1a 02 68 69 2a 00 42 00 6a 00 72 00 80 01 00 88 01 00
   90 01 00 a2 01 00 1a 05 4e 65 76 65 72 32 00 42 00 4a 00 52 00 58 00 60 00 68 00 82 01 00 8a 01 00 9a 01 00 c2 01 00 1a
   08 20 00 28 00 30 00 3a 00 1a 00 22 00`.replace(/\s+/g, ''),
  'hex',
);
