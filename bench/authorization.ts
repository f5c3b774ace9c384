/**
 * What authorization costs per request, warm: the real API handler over HTTP in `tokens` mode (as on
 * AWS), the same read (`GET pods?limit=1` in one namespace) asked by four callers side by side, in
 * interleaved rounds: a cluster-admin token (decided by its role, no RBAC read: the baseline), an edit
 * token (its role decides), a user with no token role whose access comes from a RoleBinding, and one
 * whose access comes from a group's ClusterRoleBinding (both decided by RBAC over the container's
 * snapshot). With R Roles and bindings stored besides. Prints p50/p99 latency, the added latency over
 * the baseline, DynamoDB reads per 1,000 requests, and what reloading the snapshot costs.
 *
 *   npm run bench:authorization -- [--requests 1000] [--rounds 5] [--objects 200]
 */
import { parseArgs } from 'node:util';
import { serveLambda } from '../local/lambda-http.js';
import { TokenService } from '../shared/auth/token-service.js';
import { DynamoTokenStore } from '../shared/store/dynamo/dynamo-token-store.js';
import { systemClock } from '../shared/util/clock.js';
import { dynamoCensus } from './dynamo-census.js';
import { percentile, startBackends, useBackendsForHandlers } from './harness.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '5' },
    objects: { type: 'string', default: '200' },
  },
});
const REQUESTS = Number(values.requests);
const ROUNDS = Number(values.rounds);
const OBJECTS = Number(values.objects);
const PER_ROUND = Math.ceil(REQUESTS / ROUNDS);
// The snapshot is kept for the default 5 s; a run of this size re-reads it a few times, as a busy container would.
const b = await startBackends();
// Each caller is far over the default per-user rate here: the limiter is not what is measured.
useBackendsForHandlers(b, { KUMO_AUTH_MODE: 'tokens', KUMO_RATE_LIMIT_PER_SECOND: '100000' });
const { handler } = await import('../functions/api.js');
const server = await serveLambda(handler);
const tokens = new TokenService(new DynamoTokenStore(b.dynamo, b.tableName), systemClock);
const RBAC = '/apis/rbac.authorization.k8s.io/v1';

const callers = {
  'cluster-admin token (baseline)': (await tokens.createUserToken({ name: 'root', role: 'cluster-admin' })).token,
  'edit token': (await tokens.createUserToken({ name: 'ed', role: 'edit', namespaces: ['team-a'] })).token,
  'RoleBinding to a user': (await tokens.createUserToken({ name: 'carol', role: 'none' })).token,
  "group's ClusterRoleBinding": (await tokens.createUserToken({ name: 'dan', role: 'none', groups: ['devs'] })).token,
};
const root = callers['cluster-admin token (baseline)'];

async function call(token: string, method: string, path: string, body?: unknown): Promise<number> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return res.status;
}

const rbac = (kind: string, ns: string | undefined, name: string, rest: Record<string, unknown>) =>
  call(root, 'POST', `${RBAC}${ns ? `/namespaces/${ns}` : ''}/${kind.toLowerCase()}s`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: { name },
    ...rest,
  });
const ref = (kind: string, name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind, name });

for (const ns of ['team-a', 'team-b'])
  await call(root, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
await rbac('Role', 'team-a', 'pod-reader', {
  rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }],
});
await rbac('RoleBinding', 'team-a', 'carol', {
  roleRef: ref('Role', 'pod-reader'),
  subjects: [{ kind: 'User', name: 'carol' }],
});
await rbac('ClusterRoleBinding', undefined, 'devs-view', {
  roleRef: ref('ClusterRole', 'view'),
  subjects: [{ kind: 'Group', name: 'devs' }],
});
// Others' Roles and bindings, which every snapshot reads and every decision passes over.
for (let i = 0; i < OBJECTS / 2; i++) {
  await rbac('Role', 'team-b', `r${i}`, {
    rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] }],
  });
  await rbac('RoleBinding', 'team-b', `rb${i}`, {
    roleRef: ref('Role', `r${i}`),
    subjects: [{ kind: 'User', name: `user-${i}` }],
  });
}

const census = dynamoCensus();
const path = '/api/v1/namespaces/team-a/pods?limit=1';
const latencies = new Map<string, number[]>(Object.keys(callers).map((k) => [k, []]));
const reads = new Map<string, number>(Object.keys(callers).map((k) => [k, 0]));
for (const token of Object.values(callers)) for (let i = 0; i < 20; i++) await call(token, 'GET', path); // warm
census.take();
for (let round = 0; round < ROUNDS; round++)
  for (const [who, token] of Object.entries(callers)) {
    for (let i = 0; i < PER_ROUND; i++) {
      const t0 = performance.now();
      await call(token, 'GET', path);
      latencies.get(who)?.push(performance.now() - t0);
    }
    reads.set(who, (reads.get(who) ?? 0) + census.take().readRequests);
  }

// One snapshot load, alone: a write to an RBAC object drops it, the next RBAC decision reads it again.
await rbac('Role', 'team-b', 'reload', { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] });
census.take();
const t0 = performance.now();
await call(callers['RoleBinding to a user'], 'GET', path);
const reloadMs = performance.now() - t0;
const reload = census.take();

const base = [...(latencies.get('cluster-admin token (baseline)') ?? [])].sort((x, y) => x - y);
const fmt = (n: number) => n.toFixed(2).padStart(7);
console.log(
  `\nauthorization, warm: ${PER_ROUND * ROUNDS} requests per caller in ${ROUNDS} interleaved rounds, ${OBJECTS} other Roles and RoleBindings stored\n`,
);
console.log(
  `${'caller'.padEnd(32)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'+p50'.padStart(7)} ${'+p99'.padStart(7)}  reads/1,000 req  (+ over baseline)`,
);
const baseReads = ((reads.get('cluster-admin token (baseline)') ?? 0) * 1000) / (PER_ROUND * ROUNDS);
for (const [who, list] of latencies) {
  const sorted = [...list].sort((x, y) => x - y);
  const perK = ((reads.get(who) ?? 0) * 1000) / (PER_ROUND * ROUNDS);
  console.log(
    `${who.padEnd(32)} ${fmt(percentile(sorted, 50))} ${fmt(percentile(sorted, 99))} ${fmt(percentile(sorted, 50) - percentile(base, 50))} ${fmt(percentile(sorted, 99) - percentile(base, 99))}  ${perK.toFixed(1).padStart(15)}  (+${(perK - baseReads).toFixed(1)})`,
  );
}
console.log(
  `\nsnapshot reload (after an RBAC write): ${reloadMs.toFixed(1)} ms for the request, ${reload.readRequests} reads (${reload.byTarget.map(([k, n]) => `${k} ×${n}`).join(', ')})`,
);
if (baseReads === 0) throw new Error('the census counted no reads for the baseline: it is not watching the store');
census.stop();
await server.close();
await b.stop();
