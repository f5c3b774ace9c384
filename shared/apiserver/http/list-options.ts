import { ExpiredError, StatusError, type StatusCause } from '../../model/errors.js';

/**
 * The list and watch options kumo checks as the kube-apiserver's ValidateListOptions does
 * (apimachinery meta/internalversion/validation) with the WatchList feature gate off, as it is by
 * default in Kubernetes 1.32: a watch-list (`sendInitialEvents`) is refused with 422, and client-go
 * falls back to a list and a watch. A list at an exact older resourceVersion cannot be served (the
 * store keeps only the present), so it answers 410 as a compacted etcd revision does.
 */
export function checkListOptions(q: URLSearchParams, watch: boolean): void {
  const match = q.get('resourceVersionMatch') ?? '';
  const rv = q.get('resourceVersion') ?? '';
  const causes: StatusCause[] = [];
  const forbidden = (field: string, why: string) =>
    causes.push({ reason: 'FieldValueForbidden', message: `Forbidden: ${why}`, field });
  const unsupported = (supported: string[]) =>
    causes.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${JSON.stringify(match)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
      field: 'resourceVersionMatch',
    });
  const initialEvents = q.has('sendInitialEvents');
  if (watch) {
    if (initialEvents) {
      if (match !== 'NotOlderThan')
        forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan');
      forbidden(
        'sendInitialEvents',
        'sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled',
      );
    }
    if (match) {
      if (!initialEvents)
        forbidden(
          'resourceVersionMatch',
          'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
        );
      if (match !== 'NotOlderThan') unsupported(['NotOlderThan']);
      if (q.get('continue'))
        forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided');
    }
  } else {
    if (match) {
      if (!rv)
        forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided');
      if (q.get('continue'))
        forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided');
      if (match !== 'Exact' && match !== 'NotOlderThan') unsupported(['Exact', 'NotOlderThan', '']);
      if (match === 'Exact' && rv === '0')
        forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
    }
    if (initialEvents) forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list');
  }
  if (causes.length) {
    const each = causes.map((c) => `${c.field}: ${c.message}`);
    const detail = each.length === 1 ? each[0] : `[${each.join(', ')}]`;
    throw new StatusError(422, 'Invalid', `ListOptions.meta.k8s.io "" is invalid: ${detail}`, {
      group: 'meta.k8s.io',
      kind: 'ListOptions',
      causes,
    });
  }
  // Only the present is kept: a list exactly at another version is history no longer there.
  if (!watch && match === 'Exact') throw new ExpiredError(`too old resource version: ${rv}`);
}
