import { BadRequestError, InvalidError } from '../model/errors.js';
import { immutabilityCauses } from './immutability.js';
import { dropTypeDependentFields, keepAllocatedValues } from './service-allocation.js';
import { keepAdmittedServiceAccount } from '../model/service-accounts.js';
import { clone, isPlainObject, jsonEqual } from '../model/json.js';
import { apiVersionOf, type ResourceType } from '../model/kinds.js';
import type { KubeObject, StoredObject } from '../model/types.js';
import { validationCauses } from './validation/validate.js';
import { rfc3339 } from '../util/clock.js';
import type { UpdateMode } from '../model/object-api.js';

/**
 * Pure preparation of what gets written: decoding checks, server-owned fields, defaulting,
 * validation. No I/O: the object service reads and writes around these.
 */

export interface CreateContext {
  now: Date;
  uid: string;
  /** The namespace from the URL, when the request named one. */
  namespace?: string;
  /** Five characters for generateName. */
  nameSuffix: string;
}

/** A client value for an error message; never calls the value's own toString (it may be hostile JSON). */
const show = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? String(typeof v)));

/** Fields only the server may set; whatever a client sends for them is dropped. */
const SERVER_OWNED_META = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'selfLink',
  'managedFields',
];

/** Checks the body is an object of this type and fills apiVersion/kind/namespace from the URL when absent. */
export function coerceBody(
  type: ResourceType,
  body: unknown,
  urlNamespace: string | undefined,
  urlName?: string,
): KubeObject {
  if (!isPlainObject(body))
    throw new BadRequestError(
      `the body must be a ${type.kind} object, got ${Array.isArray(body) ? 'an array' : typeof body}`,
    );
  const o = clone(body) as Record<string, unknown>;
  const apiVersion = apiVersionOf(type);
  if (o.apiVersion === undefined) o.apiVersion = apiVersion;
  if (o.kind === undefined) o.kind = type.kind;
  if (o.apiVersion !== apiVersion || o.kind !== type.kind)
    throw new BadRequestError(
      `the API version in the data (${show(o.apiVersion)}) and kind (${show(o.kind)}) do not match the request path, which serves ${apiVersion} ${type.kind}`,
    );
  if (o.metadata === undefined) o.metadata = {};
  if (!isPlainObject(o.metadata)) throw new BadRequestError('metadata must be an object');
  const meta = o.metadata as Record<string, unknown>;
  if (type.namespaced) {
    if (meta.namespace === undefined || meta.namespace === '') meta.namespace = urlNamespace ?? 'default';
    else if (urlNamespace !== undefined && meta.namespace !== urlNamespace)
      throw new BadRequestError(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
  }
  if (urlName !== undefined && meta.name !== undefined && meta.name !== urlName)
    throw new BadRequestError(
      `the name of the object (${show(meta.name)}) does not match the name on the URL (${urlName})`,
    );
  if (urlName !== undefined && meta.name === undefined) meta.name = urlName;
  return o as KubeObject;
}

/** Applies the kind's defaults in place; the caller passes an object it owns. */
export function applyDefaults(type: ResourceType, o: KubeObject): void {
  if (o.spec !== undefined && (typeof o.spec !== 'object' || o.spec === null || Array.isArray(o.spec))) return; // validation reports the bad type
  type.defaults?.(o);
}

/** Validates `o`; the update rules (`extra`) are only checked on an object that is valid in itself. */
function validate(type: ResourceType, o: KubeObject, extra: () => ReturnType<typeof immutabilityCauses> = () => []) {
  let causes = validationCauses(type, o);
  if (causes.length === 0) causes = extra();
  // The name as the message shows it: only a string (a body's name may be any JSON, even `{"toString":[]}`).
  const shown = [o.metadata.name, o.metadata.generateName].find((n): n is string => typeof n === 'string');
  if (causes.length) throw new InvalidError(type.kind, type.group, shown, causes);
}

export function prepareCreate(type: ResourceType, body: unknown, ctx: CreateContext): KubeObject {
  const o = coerceBody(type, body, ctx.namespace);
  for (const f of SERVER_OWNED_META) delete o.metadata[f];
  if (!type.namespaced) delete o.metadata.namespace;
  if (
    (o.metadata.name === undefined || o.metadata.name === '') &&
    typeof o.metadata.generateName === 'string' &&
    o.metadata.generateName
  )
    o.metadata.name = `${o.metadata.generateName}${ctx.nameSuffix}`;
  const status = type.initialStatus?.(o);
  if (type.hasStatus || status) {
    if (status) o.status = status;
    else delete o.status;
  }
  applyDefaults(type, o);
  type.admit?.(o, { uid: ctx.uid, creating: true });
  validate(type, o, () => type.validateCreate?.(o) ?? []);
  o.metadata.uid = ctx.uid;
  o.metadata.creationTimestamp = rfc3339(ctx.now);
  o.metadata.generation = 1;
  return o;
}

/** Everything but metadata and status: what `generation` counts changes of. */
function desiredState(o: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, ...rest } = o;
  return rest;
}

/**
 * The object to write for a replace (or a patch, once applied) of `current`; undefined when the
 * result equals what is stored, so a no-op update costs no write and keeps its resourceVersion.
 */
export function prepareUpdate(
  type: ResourceType,
  current: StoredObject,
  body: unknown,
  mode: UpdateMode,
): KubeObject | undefined {
  const incoming = coerceBody(type, body, current.metadata.namespace || undefined, current.metadata.name);
  let next: KubeObject;
  if (mode === 'status') {
    // The status path changes status only; everything else stays as stored.
    next = { ...clone(current), status: incoming.status };
  } else {
    next = incoming;
    for (const f of SERVER_OWNED_META) delete next.metadata[f];
    const kept: (keyof StoredObject['metadata'])[] = [
      'uid',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'generation',
      'managedFields',
    ];
    for (const f of kept)
      if (current.metadata[f] !== undefined) (next.metadata as Record<string, unknown>)[f] = current.metadata[f];
    if (!type.namespaced) delete next.metadata.namespace;
    // The main path never writes status: it belongs to the controllers and agents (status subresource).
    if (type.hasStatus) {
      if (current.status !== undefined) next.status = clone(current.status);
      else delete next.status;
    }
    applyDefaults(type, next);
    type.admit?.(next, { uid: current.metadata.uid, creating: false, previous: current });
    dropTypeDependentFields(next, current);
  }
  // On an object valid in itself: a Service keeps the address and ports the update leaves out, then the update rules.
  validate(type, next, () => {
    if (mode !== 'main') return [];
    keepAllocatedValues(next, current);
    keepAdmittedServiceAccount(next, current);
    return immutabilityCauses(next, current);
  });
  const { resourceVersion: _rv, ...currentMeta } = current.metadata;
  const { resourceVersion: _nrv, ...nextMeta } = next.metadata;
  if (jsonEqual({ ...next, metadata: nextMeta }, { ...current, metadata: currentMeta })) return undefined;
  if (mode === 'main' && !jsonEqual(desiredState(next), desiredState(current)))
    next.metadata.generation = (current.metadata.generation ?? 1) + 1;
  return next;
}
