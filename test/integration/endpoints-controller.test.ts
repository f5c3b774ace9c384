import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPod, pod } from '../support/cluster.js';
import { startEventPathStack, type EventPathStack } from '../support/event-path.js';
import { T, until } from '../support/wait.js';

/**
 * Endpoints behind the real event path. No agent exists yet (issue 4): the test writes the pod
 * status an agent would report (address and readiness) through the status subresource.
 */
let s: EventPathStack;
beforeAll(async () => {
  s = await startEventPathStack();
});
afterAll(() => s?.path.stop());

const endpoints = async () =>
  (await s.store.get({ kind: 'Endpoints', namespace: 'default', name: 'web' }))?.subsets as any[] | undefined;
const ips = async () => ((await endpoints())?.[0]?.addresses ?? []).map((a: any) => a.ip).sort();

describe('Endpoints controller', () => {
  it('lists the ready pods a Service selects, follows them, and goes with the Service', async () => {
    await s.api.service.create(T('Service'), 'default', {
      metadata: { name: 'web' },
      spec: { selector: { app: 'load' }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    for (const [name, ip] of [
      ['p1', '10.0.0.1'],
      ['p2', '10.0.0.2'],
    ] as const) {
      await createPod(s.api.service, pod(name, '10m'));
      await s.api.service.patch(
        T('Pod'),
        'default',
        name,
        'merge',
        { status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] } },
        'status',
      );
    }
    await until(async () => JSON.stringify(await ips()) === JSON.stringify(['10.0.0.1', '10.0.0.2']));
    expect((await endpoints())?.[0]?.ports).toEqual([{ port: 8080, protocol: 'TCP' }]);

    await s.api.service.patch(
      T('Pod'),
      'default',
      'p2',
      'merge',
      { status: { conditions: [{ type: 'Ready', status: 'False' }] } },
      'status',
    );
    await until(async () => JSON.stringify(await ips()) === JSON.stringify(['10.0.0.1']));
    expect((await endpoints())?.[0]?.notReadyAddresses?.map((a: any) => a.ip)).toEqual(['10.0.0.2']);

    await s.api.service.delete(T('Service'), 'default', 'web', {});
    await until(async () => (await endpoints()) === undefined);
  });
});
