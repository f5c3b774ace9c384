import jsonpatch from 'fast-json-patch';
import { BadRequestError, StatusError, UnsupportedMediaTypeError } from '../model/errors.js';
import { clone, isPlainObject } from '../model/json.js';
import { strategicMerge } from './strategic-merge.js';
import type { PatchType } from '../model/object-api.js';

/** The patch formats the API accepts, by Content-Type. */

export function patchTypeOf(contentType: string): PatchType {
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType === 'application/merge-patch+json') return 'merge';
  if (mediaType === 'application/json-patch+json') return 'json';
  if (mediaType === 'application/strategic-merge-patch+json') return 'strategic';
  if (mediaType === 'application/apply-patch+yaml' || mediaType === 'application/apply-patch+json') return 'apply';
  throw new UnsupportedMediaTypeError(mediaType);
}

/** RFC 7386 JSON Merge Patch: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** RFC 6902 JSON Patch; a failed `test` or a path that does not exist is the client's error (422). */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new BadRequestError('a JSON patch must be an array of operations');
  // The library reads `op` as a key: an object there with a non-function toString broke it with a
  // TypeError before its own validation could answer (fuzz-found, a 500).
  const malformed = ops.findIndex((o) => !isPlainObject(o) || typeof o.op !== 'string' || typeof o.path !== 'string');
  if (malformed >= 0)
    throw new BadRequestError(`invalid JSON patch: operation ${malformed} needs string "op" and "path" fields`);
  const invalid = jsonpatch.validate(ops as jsonpatch.Operation[]);
  if (invalid) throw new BadRequestError(`invalid JSON patch: ${invalid.message.split('\n')[0]}`);
  try {
    const patched = jsonpatch.applyPatch(clone(target), ops as jsonpatch.Operation[], true, true).newDocument;
    // A `move` or `copy` onto a path inside its own source can leave the document containing itself
    // (fuzz-found): no JSON object can be that, so the patch is refused rather than failing the write.
    JSON.stringify(patched);
    return patched;
  } catch (e) {
    if (e instanceof jsonpatch.JsonPatchError)
      throw new StatusError(422, 'Invalid', `the JSON patch could not be applied: ${e.message.split('\n')[0]}`, {});
    // The library refuses paths through __proto__ or constructor/prototype with a TypeError (it answered
    // 500). No Kubernetes kind has such a field, so nothing could be written there anyway: 422.
    if (e instanceof TypeError && /__proto__|constructor\/prototype/.test(e.message))
      throw new StatusError(
        422,
        'Invalid',
        'the JSON patch could not be applied: it names a path through __proto__ or constructor/prototype, which no object has',
        {},
      );
    // Some operation lists that pass its validation still break it half-way (a `copy` from "/0/" into
    // the root is a TypeError): the operations and the stored object are plain JSON, so a failure here is
    // the patch's, and Kubernetes answers an unappliable patch with 422.
    if (e instanceof TypeError)
      throw new StatusError(422, 'Invalid', `the JSON patch could not be applied: ${e.message}`, {});
    throw e;
  }
}

export function applyPatch(type: PatchType, target: unknown, patch: unknown): unknown {
  if (type === 'json') return jsonPatch(target, patch);
  if (!isPlainObject(patch)) throw new BadRequestError(`a ${type} patch must be an object`);
  if (type === 'merge') return mergePatch(target, patch);
  // A server-side apply body is the intended object; without field ownership tracking it merges like a strategic patch.
  return strategicMerge(target, patch);
}
