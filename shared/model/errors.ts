/**
 * Every expected failure is a StatusError: it carries the HTTP code and the Kubernetes `Status`
 * it answers with. Adapters translate infrastructure failures (e.g. DynamoDB's
 * ConditionalCheckFailedException) into these; anything else is a bug and becomes a 500.
 */

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

/** Identifies the object an error is about, as Kubernetes names it in messages: `deployments.apps "web"`. */
export interface ObjectRef {
  resource: string; // plural, e.g. "deployments"
  group: string; // "" for core
  name?: string;
}

const qualified = (ref: ObjectRef) => (ref.group ? `${ref.resource}.${ref.group}` : ref.resource);

/** StatusDetails as Go writes it: every field is `omitempty` (a core kind's group "" is left out). */
function omitEmpty(d: StatusDetails): StatusDetails {
  return Object.fromEntries(
    Object.entries(d).filter(
      ([, v]) => v !== undefined && v !== '' && v !== 0 && !(Array.isArray(v) && v.length === 0),
    ),
  ) as StatusDetails;
}

export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = new.target.name;
  }

  toStatus(): Status {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: omitEmpty(this.details) } : {}),
      code: this.code,
    };
  }
}

export class BadRequestError extends StatusError {
  constructor(message: string, causes?: StatusCause[]) {
    super(400, 'BadRequest', message, causes ? { causes } : undefined);
  }
}

export class NotFoundError extends StatusError {
  constructor(ref: ObjectRef) {
    super(404, 'NotFound', `${qualified(ref)} "${ref.name ?? ''}" not found`, {
      name: ref.name,
      group: ref.group,
      kind: ref.resource,
    });
  }
}

/** The path itself names nothing we serve (unknown resource or subresource). */
export class RouteNotFoundError extends StatusError {
  constructor(message = 'the server could not find the requested resource') {
    super(404, 'NotFound', message, {});
  }
}

export class AlreadyExistsError extends StatusError {
  constructor(ref: ObjectRef) {
    super(409, 'AlreadyExists', `${qualified(ref)} "${ref.name ?? ''}" already exists`, {
      name: ref.name,
      group: ref.group,
      kind: ref.resource,
    });
  }
}

/** Optimistic-concurrency failure: the object changed since the client (or we) read it. */
export class ConflictError extends StatusError {
  constructor(
    ref: ObjectRef,
    why = 'the object has been modified; please apply your changes to the latest version and try again',
  ) {
    super(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(ref)} "${ref.name ?? ''}": ${why}`, {
      name: ref.name,
      group: ref.group,
      kind: ref.resource,
    });
  }
}

export class InvalidError extends StatusError {
  constructor(
    kind: string,
    group: string,
    name: string | undefined,
    readonly causes: StatusCause[],
  ) {
    const qualifiedKind = group ? `${kind}.${group}` : kind;
    const summary = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
    const list = summary.length === 1 ? summary[0] : `[${summary.join(', ')}]`;
    super(422, 'Invalid', `${qualifiedKind} "${name ?? ''}" is invalid: ${list}`, { name, group, kind, causes });
  }
}

export class ForbiddenError extends StatusError {
  constructor(ref: ObjectRef, why: string) {
    super(403, 'Forbidden', `${qualified(ref)} "${ref.name ?? ''}" is forbidden: ${why}`, {
      name: ref.name,
      group: ref.group,
      kind: ref.resource,
    });
  }
}

/** No valid credentials: Kubernetes answers exactly this, without saying what was wrong with them. */
export class UnauthorizedError extends StatusError {
  constructor() {
    super(401, 'Unauthorized', 'Unauthorized', {});
  }
}

/** Authenticated, but not allowed: worded like Kubernetes' RBAC denials so kubectl users recognise them. */
export class AccessDeniedError extends StatusError {
  constructor(message: string, ref: { resource?: string; group?: string; name?: string }) {
    super(403, 'Forbidden', message, { name: ref.name, group: ref.group, kind: ref.resource });
  }
}

export class TooManyRequestsError extends StatusError {
  constructor(message: string, retryAfterSeconds: number) {
    super(429, 'TooManyRequests', message, { retryAfterSeconds });
  }
}

/** The object store failed in a way a later try may not (an outage, a limit): 503 with a hint to retry. */
export class StorageUnavailableError extends StatusError {
  constructor(detail: string) {
    super(503, 'ServiceUnavailable', `the object store is unavailable (${detail}); try again`, {
      retryAfterSeconds: 1,
    });
  }
}

/**
 * The object store refused a request no retry fixes (a malformed request, missing permissions, a
 * missing table): a 500 the API logs, as Kubernetes answers a storage error it cannot classify.
 */
export class StorageFailedError extends StatusError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(500, 'InternalError', `Internal error occurred: the object store refused the request (${detail})`, {});
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

export class MethodNotAllowedError extends StatusError {
  constructor(message: string) {
    super(405, 'MethodNotAllowed', message, {});
  }
}

export class NotAcceptableError extends StatusError {
  constructor(message: string) {
    super(406, 'NotAcceptable', message, {});
  }
}

export class RequestEntityTooLargeError extends StatusError {
  constructor(message: string) {
    super(413, 'RequestEntityTooLarge', message, {});
  }
}

/** 410 Gone: a watch from a resourceVersion older than the kept history (apierrors.NewResourceExpired); clients list again. */
export class ExpiredError extends StatusError {
  constructor(message: string) {
    super(410, 'Expired', message);
  }
}

export class UnsupportedMediaTypeError extends StatusError {
  constructor(contentType: string) {
    super(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/merge-patch+json, application/json-patch+json; got "${contentType}"`,
      {},
    );
  }
}

/** Builds a field-error cause the way Kubernetes' field.ErrorList renders them. */
export const cause = {
  required: (field: string): StatusCause => ({ reason: 'FieldValueRequired', message: 'Required value', field }),
  invalid: (field: string, value: unknown, detail: string): StatusCause => ({
    reason: 'FieldValueInvalid',
    message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
    field,
  }),
  notSupported: (field: string, value: unknown, allowed: readonly string[]): StatusCause => ({
    reason: 'FieldValueNotSupported',
    message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`,
    field,
  }),
  duplicate: (field: string, value: unknown): StatusCause => ({
    reason: 'FieldValueDuplicate',
    message: `Duplicate value: ${JSON.stringify(value)}`,
    field,
  }),
  tooLong: (field: string, max: number): StatusCause => ({
    reason: 'FieldValueTooLong',
    message: `Too long: must have at most ${max} bytes`,
    field,
  }),
  tooMany: (field: string, count: number, max: number): StatusCause => ({
    reason: 'FieldValueTooMany',
    message: `Too many: ${count}: must have at most ${max} items`,
    field,
  }),
  forbidden: (field: string, detail: string): StatusCause => ({
    reason: 'FieldValueForbidden',
    message: `Forbidden: ${detail}`,
    field,
  }),
};

/**
 * A failure no retry can fix (controller-runtime's TerminalError): a key no consumer reads, an object
 * that can never be acted on. Queue consumers log it, count it and drop the key instead of retrying.
 */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/** An all-or-nothing batch was refused; `failures[i]` says why write i failed (undefined: it would have succeeded). */
export class TransactionError extends StatusError {
  constructor(readonly failures: (StatusError | undefined)[]) {
    const first = failures.find((f) => f !== undefined);
    super(
      first?.code ?? 409,
      first?.reason ?? 'Conflict',
      `transaction rolled back: ${first?.message ?? 'a concurrent write interfered'}`,
      {},
    );
  }
}

/** A bind lost its race for node capacity: the node's free resources changed since the snapshot was read. */
export class CapacityConflictError extends StatusError {
  constructor(nodeName: string) {
    super(409, 'Conflict', `node "${nodeName}" no longer has room for the pod, or the pod is already accounted on it`, {
      name: nodeName,
      kind: 'nodes',
    });
  }
}
