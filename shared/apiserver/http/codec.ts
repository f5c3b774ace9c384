import { parseAllDocuments, parse as parseYaml, stringify as toYaml } from 'yaml';
import { BadRequestError, RequestEntityTooLargeError, UnsupportedMediaTypeError } from '../../model/errors.js';
import { isPlainObject, nestingOf } from '../../model/json.js';

/** Bodies larger than this are refused before parsing (Kubernetes' own request limit is 3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export const mediaTypeOf = (contentType: string | undefined) =>
  (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

const JSON_TYPES = new Set(['', 'application/json', 'application/merge-patch+json', 'application/json-patch+json']);
const YAML_TYPES = new Set(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml']);

export function checkSize(body: string) {
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_BODY_BYTES)
    throw new RequestEntityTooLargeError(`the request body is ${bytes} bytes; the limit is ${MAX_BODY_BYTES} bytes`);
}

/**
 * How deep a body may nest. Kubernetes' objects nest about 20 levels; the limit keeps every recursive
 * walk after decoding (validation, patching, cloning, encoding) far from the stack's end, and the YAML
 * parser, which recurses per level and overflowed at about 900 (a 10,000-deep body answered 500, and
 * an overflow inside its regular expressions can abort the process), from ever reaching that depth.
 */
export const MAX_NESTING = 500;

const tooDeep = () => new BadRequestError(`the request body is nested more than ${MAX_NESTING} levels deep`);

/**
 * An upper bound of a YAML text's nesting, read before the parser sees it: open flow collections
 * (`[`/`{` outside quotes) plus, per line, the indentation and the compact `- ` and `? ` indicators
 * (`- - - x` nests on one line). Generous for any real manifest; it errs only towards refusing.
 */
function yamlNestingBound(text: string): number {
  let max = 0;
  let flow = 0;
  let quote: string | undefined;
  let lineStart = true;
  let indent = 0;
  let compact = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      lineStart = true;
      indent = 0;
      compact = 0;
      continue; // a quoted scalar may span lines: its quote stays open
    }
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (lineStart && c === ' ') {
      indent++;
      continue;
    }
    // A quote opens a scalar only where one may start (not the apostrophe in `don't`, which would
    // otherwise hide every bracket after it).
    const scalarMayStart = lineStart || ' \t[{,:'.includes(text[i - 1] ?? ' ');
    if ((c === '-' || c === '?') && text[i + 1] === ' ' && (lineStart || text[i - 1] === ' ')) compact++;
    else if ((c === '"' || c === "'") && scalarMayStart) quote = c;
    else if (c === '#' && (lineStart || text[i - 1] === ' ')) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if (c === '[' || c === '{') flow++;
    else if (c === ']' || c === '}') flow = Math.max(0, flow - 1);
    lineStart = false;
    max = Math.max(max, indent + compact + flow);
  }
  return max;
}

/** One document from a JSON or YAML body. */
export function decodeBody(contentType: string | undefined, body: string | undefined): unknown {
  const mediaType = mediaTypeOf(contentType);
  if (body === undefined || body.trim() === '') throw new BadRequestError('the request body is empty');
  checkSize(body);
  let value: unknown;
  if (JSON_TYPES.has(mediaType)) {
    try {
      value = JSON.parse(body) as unknown;
    } catch (e) {
      throw new BadRequestError(`the request body is not valid JSON: ${(e as Error).message}`);
    }
  } else if (YAML_TYPES.has(mediaType)) {
    if (yamlNestingBound(body) > MAX_NESTING) throw tooDeep();
    try {
      value = parseYaml(body, { prettyErrors: true, uniqueKeys: true }) as unknown;
    } catch (e) {
      throw new BadRequestError(`the request body is not valid YAML: ${(e as Error).message}`);
    }
  } else throw new UnsupportedMediaTypeError(mediaType);
  if (nestingOf(value, MAX_NESTING) > MAX_NESTING) throw tooDeep();
  return MAY_HOLD_SURROGATES.test(body) ? wellFormed(value) : value;
}

/** A `\uD800`–`\uDFFF` escape or a raw surrogate: only then can a decoded string hold a lone one. */
const MAY_HOLD_SURROGATES = /\\u[dD][89a-fA-F]|[\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const toWellFormed = (s: string) => s.replace(LONE_SURROGATE, '\ufffd');

/**
 * Lone UTF-16 surrogates (from `\ud800` escapes) become U+FFFD, as Go's JSON decoder replaces them in
 * the kube-apiserver; stored as they are they could not be encoded as UTF-8 for DynamoDB. Invalid
 * UTF-8 bytes were already replaced the same way when the body was read as text.
 */
function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return toWellFormed(value);
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [toWellFormed(k), wellFormed(v)]));
  return value;
}

/** Every document of a multi-document YAML (or a JSON array / List) body, empty documents skipped. */
export function decodeDocuments(contentType: string | undefined, body: string | undefined): unknown[] {
  const mediaType = mediaTypeOf(contentType);
  if (body === undefined || body.trim() === '') throw new BadRequestError('the request body is empty');
  checkSize(body);
  let docs: unknown[];
  if (YAML_TYPES.has(mediaType)) {
    if (yamlNestingBound(body) > MAX_NESTING) throw tooDeep();
    const parsed = parseAllDocuments(body, { prettyErrors: true, uniqueKeys: true });
    const list = Array.isArray(parsed) ? parsed : [parsed];
    docs = [];
    for (const [i, d] of list.entries()) {
      if (d.errors.length)
        throw new BadRequestError(`document ${i + 1} is not valid YAML: ${d.errors[0]?.message ?? ''}`);
      const v = d.toJS() as unknown;
      if (nestingOf(v, MAX_NESTING) > MAX_NESTING) throw tooDeep();
      if (v !== null && v !== undefined) docs.push(MAY_HOLD_SURROGATES.test(body) ? wellFormed(v) : v);
    }
  } else {
    const v = decodeBody(contentType, body);
    docs = Array.isArray(v) ? v : [v];
  }
  // `kind: List` wraps items, as `kubectl get -o yaml` prints them.
  return docs.flatMap((d): unknown[] =>
    isPlainObject(d) && d.kind === 'List' && Array.isArray(d.items) ? d.items : [d],
  );
}

export type Encoding = 'json' | 'yaml';

/** The client may ask for YAML; everything else, wildcards included, gets JSON. */
export function encodingFor(accept: string | undefined): Encoding {
  const first = (accept ?? '').split(',')[0]?.split(';')[0]?.trim().toLowerCase() ?? '';
  return YAML_TYPES.has(first) ? 'yaml' : 'json';
}

/** JSON as the kube-apiserver writes it (Go's json.Encoder): one line, ended by a newline. */
export const jsonBody = (value: unknown): string => JSON.stringify(value) + '\n';

export function encode(value: unknown, encoding: Encoding): { body: string; contentType: string } {
  return encoding === 'yaml'
    ? { body: toYaml(value), contentType: 'application/yaml' }
    : { body: jsonBody(value), contentType: 'application/json' };
}
