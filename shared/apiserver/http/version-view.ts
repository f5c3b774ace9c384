import { BadRequestError, ConflictError } from '../../model/errors.js';
import { isPlainObject } from '../../model/json.js';
import { apiVersionOf, storageTypeOf, type ResourceType } from '../../model/kinds.js';
import type { KubeObject } from '../../model/types.js';
import type { ObjectService } from '../object-service.js';
import { applyPatch, patchTypeOf } from '../patch.js';
import { decodeBody } from './codec.js';
import type { FieldRules } from './field-rules.js';
import type { ApiRequest } from './request.js';

/**
 * A request for an older version of a kind (autoscaling/v1 HorizontalPodAutoscaler) served through
 * its storage version, as the kube-apiserver converts at its edge: bodies are checked against the
 * version they were written in and converted in, answers converted out. A patch applies to the object
 * as the client's version shows it, so it is read, converted, patched and written back whole (with
 * its resourceVersion as precondition, retried on a conflict as the kube-apiserver retries).
 */

interface Reply {
  code: number;
  value: unknown;
  contentType?: string;
  raw?: string;
}

const CONFLICT_RETRIES = 3;

type Route =
  | { kind: 'collection'; type: ResourceType; namespace?: string }
  | { kind: 'object'; type: ResourceType; namespace: string; name: string; subresource?: string };

export async function viaStorageVersion<R extends Route>(
  req: ApiRequest,
  r: R,
  service: ObjectService,
  fields: FieldRules,
  /** Reads a request's body (JSON, YAML, or the protobuf kubectl's typed clients send). */
  decode: (req: ApiRequest) => unknown,
  inner: (req: ApiRequest, r: R) => Promise<Reply>,
): Promise<Reply> {
  const view = r.type;
  const convert = view.conversion;
  if (!convert) return inner(req, r);
  const stored = storageTypeOf(view);
  const route = { ...r, type: stored };
  const m = req.method.toUpperCase();
  const asJson = (body: unknown): ApiRequest => ({
    ...req,
    headers: { ...req.headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    bodyBytes: undefined,
  });
  const toStored = (body: unknown) => {
    if (!isPlainObject(body)) return body;
    // A body of another version is not this path's to convert (the kube-apiserver refuses it too).
    const apiVersion = apiVersionOf(view);
    if ((body.apiVersion ?? apiVersion) !== apiVersion || (body.kind ?? view.kind) !== view.kind)
      throw new BadRequestError(
        `the API version in the data (${String(body.apiVersion)}) and kind (${String(body.kind)}) do not match the request path, which serves ${apiVersion} ${view.kind}`,
      );
    return convert.toStored(fields.apply(view, body) as KubeObject);
  };
  const out = (reply: Reply) => convertReply(reply, view, stored, convert.fromStored);

  if (m === 'POST' || m === 'PUT') return out(await inner(asJson(toStored(decode(req))), route));
  if (m !== 'PATCH' || r.kind !== 'object') return out(await inner(req, route));
  const patchType = patchTypeOf(req.headers['content-type'] ?? '');
  const body = decodeBody(patchType === 'apply' ? 'application/yaml' : 'application/json', req.body);
  // Server-side apply merges the applied configuration field by field: converted as a whole object.
  if (patchType === 'apply')
    return out(
      await inner(
        { ...asJson(toStored(body)), headers: { ...req.headers, 'content-type': 'application/apply-patch+yaml' } },
        route,
      ),
    );
  for (let attempt = 0; ; attempt++) {
    const current = await service.get(stored, r.namespace, r.name);
    const patched = applyPatch(patchType, convert.fromStored(current), body);
    // A precondition only if the patch set one (the object it applied to always has a version).
    const after =
      isPlainObject(patched) && isPlainObject(patched.metadata) ? patched.metadata.resourceVersion : undefined;
    const sentVersion = after !== current.metadata.resourceVersion || mentionsVersion(body) ? after : undefined;
    const next = toStored(patched);
    if (isPlainObject(next) && isPlainObject(next.metadata))
      next.metadata.resourceVersion = sentVersion ?? current.metadata.resourceVersion;
    try {
      return out(await inner({ ...asJson(next), method: 'PUT' }, route));
    } catch (e) {
      // A write between the read and this one: patch the newer object, unless the client named the version.
      if (!(e instanceof ConflictError) || sentVersion !== undefined || attempt >= CONFLICT_RETRIES) throw e;
    }
  }
}

/** Whether a merge or strategic patch names a resourceVersion (a JSON patch that does changes it, or is caught above). */
const mentionsVersion = (body: unknown) =>
  isPlainObject(body) && isPlainObject(body.metadata) && body.metadata.resourceVersion !== undefined;

/** An answer in the client's version: an object, a list, a table's rows, a watch's events. */
function convertReply(
  reply: Reply,
  view: ResourceType,
  stored: ResourceType,
  fromStored: (o: KubeObject) => KubeObject,
): Reply {
  const one = (v: unknown): unknown => (isPlainObject(v) && v.kind === stored.kind ? fromStored(v as KubeObject) : v);
  const value = (v: unknown): unknown => {
    if (!isPlainObject(v)) return v;
    if (v.kind === stored.kind) return one(v);
    if (v.kind === stored.listKind && Array.isArray(v.items)) {
      return { ...v, apiVersion: apiVersionOf(view), items: v.items.map(one) };
    }
    if (v.kind === 'Table' && Array.isArray(v.rows))
      return {
        ...v,
        rows: v.rows.map((row: unknown) => (isPlainObject(row) ? { ...row, object: one(row.object) } : row)),
      };
    return v;
  };
  if (reply.raw !== undefined) {
    const lines = reply.raw.split('\n').map((line) => {
      if (!line) return line;
      const event = JSON.parse(line) as unknown;
      return JSON.stringify(isPlainObject(event) ? { ...event, object: value(event.object) } : event);
    });
    return { ...reply, raw: lines.join('\n') };
  }
  return { ...reply, value: value(reply.value) };
}
