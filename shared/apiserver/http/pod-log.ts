import { BadRequestError, StatusError } from '../../model/errors.js';
import { typeByKindName } from '../../model/kinds.js';
import type { ObjectService } from '../object-service.js';
import type { LogStore } from '../../logs/log-store.js';
import { podSpec } from '../../model/typed.js';
import { queryBool } from './query.js';

const nonNegative = (q: URLSearchParams, name: string): number | undefined => {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new BadRequestError(`${name}: must be a non-negative integer, not ${JSON.stringify(v)}`, [
      { reason: 'FieldValueInvalid', message: 'must be a non-negative integer', field: name },
    ]);
  return n;
};

/**
 * `GET pods/{name}/log`: the container's output as text, read from the log store the agents write
 * to. `follow` answers with what there is so far (a Lambda cannot hold the stream open).
 */
export async function podLog(
  service: ObjectService,
  logs: LogStore | undefined,
  namespace: string,
  name: string,
  q: URLSearchParams,
): Promise<string> {
  const podType = typeByKindName('Pod');
  if (!podType) throw new Error('Pod kind is not registered');
  const pod = await service.get(podType, namespace, name);
  const spec = podSpec(pod);
  const names = [...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c) => c.name);
  let container = q.get('container') ?? undefined;
  if (!container) {
    const defaulted = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
    if (defaulted && names.includes(defaulted)) container = defaulted;
    else if ((spec.containers ?? []).length === 1) container = spec.containers?.[0]?.name;
    else
      throw new BadRequestError(
        `a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`,
      );
  }
  if (!container || !names.includes(container))
    throw new BadRequestError(`container ${container ?? ''} is not valid for pod ${name}`);
  const tailLines = nonNegative(q, 'tailLines');
  const limitBytes = nonNegative(q, 'limitBytes');
  const previous = queryBool(q, 'previous');
  if (!logs)
    throw new StatusError(503, 'ServiceUnavailable', 'container logs are not configured on this control plane', {});
  const ref = { namespace, pod: name, podUid: pod.metadata.uid ?? '', container };
  const text = await logs.read(ref, { tailLines, limitBytes, previous });
  if (text === undefined) {
    if (previous) throw new BadRequestError(`previous terminated container "${container}" in pod "${name}" not found`);
    throw new BadRequestError(`container "${container}" in pod "${name}" is waiting to start: no logs yet`);
  }
  return text;
}
