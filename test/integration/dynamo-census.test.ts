import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoCensus, requireCounted } from '../../bench/dynamo-census.js';
import { addNode, createPod, pod } from '../support/cluster.js';
import { freshStack, type TestStack } from '../support/stack.js';

/**
 * The benchmarks' DynamoDB census counts at the client the stores really use. It once hooked the SDK's
 * middleware while the stores spoke through the lite client, and printed 0 writes per pod; these
 * counts are the hand count of what one pod costs, so a census that stops seeing requests fails here.
 */
let s: TestStack;
const census = dynamoCensus();
beforeAll(async () => {
  s = await freshStack();
  await addNode(s.api.service, 'census-node', { cpu: '4', memory: '8Gi', pods: 10 });
});
afterAll(() => census.stop());

describe('the DynamoDB census', () => {
  it('counts the requests and item writes of one pod create', async () => {
    census.take();
    await createPod(s.api.service, pod('counted', '100m'));
    const t = census.take();
    requireCounted(t, 'a pod create');
    // Admission reads the namespace (it must exist and not be terminating) and the pod's ServiceAccount
    // (kube-apiserver reads both from informer caches; kumo keeps each found one for 2 s); the pod is
    // one transaction: its conditional put and its change record (shared/store/change-log.ts).
    expect(t.byTarget).toEqual([
      ['GetItem Namespace', 1],
      ['GetItem ServiceAccount', 1],
      ['TransactWriteItems [ChangeLog,Pod]', 1],
    ]);
    expect(t).toMatchObject({
      requests: 3,
      readRequests: 2,
      writeRequests: 1,
      itemWrites: 2,
    });
    expect([...t.itemWritesByKind].sort()).toEqual([
      ['ChangeLog', 1],
      ['Pod', 1],
    ]);
  });

  it('refuses a count of zero after work', () => {
    expect(() => requireCounted({ requests: 0, readRequests: 0, writeRequests: 0, itemWrites: 0 }, 'work')).toThrow(
      /not watching the client the code uses/,
    );
  });
});
