import { parseAllDocuments, parse as parseYaml, stringify as toYaml } from 'yaml';
import { BadRequestError, RequestEntityTooLargeError, UnsupportedMediaTypeError } from '../errors.js';

/** Bodies larger than this are refused before parsing (Kubernetes' own request limit is 3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export const mediaTypeOf = (contentType: string | undefined) => (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

const JSON_TYPES = new Set(['', 'application/json', 'application/merge-patch+json', 'application/json-patch+json']);
const YAML_TYPES = new Set(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml']);

export function checkSize(body: string) {
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_BODY_BYTES) throw new RequestEntityTooLargeError(`the request body is ${bytes} bytes; the limit is ${MAX_BODY_BYTES} bytes`);
}

/** One document from a JSON or YAML body. */
export function decodeBody(contentType: string | undefined, body: string | undefined): unknown {
  const mediaType = mediaTypeOf(contentType);
  if (body === undefined || body.trim() === '') throw new BadRequestError('the request body is empty');
  checkSize(body);
  if (JSON_TYPES.has(mediaType)) {
    try {
      return JSON.parse(body) as unknown;
    } catch (e) {
      throw new BadRequestError(`the request body is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (YAML_TYPES.has(mediaType)) {
    try {
      return parseYaml(body, { prettyErrors: true, uniqueKeys: true }) as unknown;
    } catch (e) {
      throw new BadRequestError(`the request body is not valid YAML: ${(e as Error).message}`);
    }
  }
  throw new UnsupportedMediaTypeError(mediaType);
}

/** Every document of a multi-document YAML (or a JSON array / List) body, empty documents skipped. */
export function decodeDocuments(contentType: string | undefined, body: string | undefined): unknown[] {
  const mediaType = mediaTypeOf(contentType);
  if (body === undefined || body.trim() === '') throw new BadRequestError('the request body is empty');
  checkSize(body);
  let docs: unknown[];
  if (YAML_TYPES.has(mediaType)) {
    const parsed = parseAllDocuments(body, { prettyErrors: true, uniqueKeys: true });
    const list = Array.isArray(parsed) ? parsed : [parsed];
    docs = [];
    for (const [i, d] of list.entries()) {
      if (d.errors.length) throw new BadRequestError(`document ${i + 1} is not valid YAML: ${d.errors[0]?.message ?? ''}`);
      const v = d.toJS() as unknown;
      if (v !== null && v !== undefined) docs.push(v);
    }
  } else {
    const v = decodeBody(contentType, body);
    docs = Array.isArray(v) ? v : [v];
  }
  // `kind: List` wraps items, as `kubectl get -o yaml` prints them.
  return docs.flatMap((d) => (d && typeof d === 'object' && (d as { kind?: unknown }).kind === 'List' && Array.isArray((d as { items?: unknown }).items) ? ((d as { items: unknown[] }).items) : [d]));
}

export type Encoding = 'json' | 'yaml';

/** The client may ask for YAML; everything else, wildcards included, gets JSON. */
export function encodingFor(accept: string | undefined): Encoding {
  const first = (accept ?? '').split(',')[0]?.split(';')[0]?.trim().toLowerCase() ?? '';
  return YAML_TYPES.has(first) ? 'yaml' : 'json';
}

export function encode(value: unknown, encoding: Encoding): { body: string; contentType: string } {
  return encoding === 'yaml' ? { body: toYaml(value), contentType: 'application/yaml' } : { body: JSON.stringify(value), contentType: 'application/json' };
}
