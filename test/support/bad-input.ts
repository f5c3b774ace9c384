import fc from 'fast-check';

/**
 * Inputs that break parsers and recursive walkers, shared by the handler's fuzz test and the offline
 * HTTP path's (serverless-offline sits in front of the same handler there).
 */

const JSONISH = [
  'application/json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/json-patch+json',
  'application/apply-patch+json',
];
const YAMLISH = ['application/yaml', 'application/apply-patch+yaml'];
const ALL = [...JSONISH, ...YAMLISH, 'application/vnd.kubernetes.protobuf'];

const manifestAround = (inner: string) =>
  `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"target","namespace":"default"},"spec":{"x":${inner}}}`;

/** [what, body, the content types to send it as]. */
export function badBodies(): [string, string | Buffer, string[]][] {
  const out: [string, string | Buffer, string[]][] = [];
  for (const depth of [1_001, 10_000, 100_000]) {
    out.push([`arrays nested ${depth} deep`, manifestAround('['.repeat(depth) + ']'.repeat(depth)), ALL]);
    out.push([`objects nested ${depth} deep`, manifestAround('{"a":'.repeat(depth) + '1' + '}'.repeat(depth)), ALL]);
  }
  out.push(['a bare array nested 100,000 deep', '['.repeat(100_000) + ']'.repeat(100_000), ALL]);
  // YAML's block style nests by indentation: 1,500 levels at one space each.
  const block = Array.from({ length: 1_500 }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n';
  out.push([
    'YAML block mappings nested 1,500 deep',
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: target\nspec:\n  x:\n${block.replace(/^/gm, '   ')}`,
    YAMLISH,
  ]);
  // An apostrophe in a plain scalar is no quote: the brackets after it count (they once hid from the guard).
  out.push([
    'YAML flow collections nested 2,000 deep after an apostrophe',
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: target\n  annotations: { note: don't }\ndata: ${'['.repeat(2_000)}${']'.repeat(2_000)}\n`,
    YAMLISH,
  ]);
  const invalidUtf8 = Buffer.concat([
    Buffer.from('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"target","labels":{"a":"'),
    Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]),
    Buffer.from('"}},"data":{"k":"'),
    Buffer.from([0xe2, 0x82]),
    Buffer.from('"}}'),
  ]);
  out.push(['invalid UTF-8 bytes', invalidUtf8, ALL]);
  out.push([
    'lone surrogates in JSON escapes',
    '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"target","annotations":{"a":"\\ud800","\\udfff":"b"}},"data":{"k":"\\udc00x\\ud83d"}}',
    [...JSONISH, ...YAMLISH],
  ]);
  out.push([
    'a NUL and control characters',
    '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"target\\u0000"},"data":{"k\\u0001":"\\u0000"}}',
    JSONISH,
  ]);
  return out;
}

export function badContentTypes(): string[] {
  return [
    ';',
    'application/json;;',
    'application/json; charset',
    'application/json; charset=',
    'application/json; charset=utf-16',
    'application/json; charset="utf-8',
    '/',
    'application/',
    '*/*',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=',
    'multipart/form-data',
    'APPLICATION/JSON',
    'application/json ; charset=utf-8',
    'application/vnd.kubernetes.protobuf;stream=watch',
    `application/${'x'.repeat(2_000)}`,
  ];
}

const segment = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'metadata',
  'labels',
  'annotations',
  'spec',
  'replicas',
  'data',
  'k',
  '-',
  '0',
  '1',
  '99',
  '',
  '~0',
  '~1',
  'a~1b',
  'x',
);
const pointer = fc.oneof(
  fc.array(segment, { maxLength: 5 }).map((s) => s.map((x) => `/${x}`).join('')),
  fc.string({ maxLength: 12 }),
);

/** RFC 6902 operation lists, well-formed or not, aimed at the paths that break implementations. */
export function randomPatchOps() {
  const op = fc.record(
    {
      op: fc.oneof(
        fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', '_get', 'bogus'),
        fc.jsonValue(),
      ),
      path: fc.oneof(pointer, fc.jsonValue()),
      from: pointer,
      value: fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom({ ['__proto__']: { polluted: 1 } }, [])),
    },
    { requiredKeys: [] },
  );
  return fc.oneof({ weight: 9, arbitrary: fc.array(op, { maxLength: 6 }) }, { weight: 1, arbitrary: fc.jsonValue() });
}
