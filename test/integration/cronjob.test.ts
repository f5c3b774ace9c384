import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEventPathApi } from '../support/event-path.js';
import { kubectlFor, kubectlPath, type Kubectl } from '../support/kubectl.js';
import { T, until } from '../support/wait.js';
import { freshStack, type TestStack } from '../support/stack.js';
import { randomUUID } from 'node:crypto';
import { CronJobController } from '../../shared/controllers/cronjob/controller.js';
import { storeEventRecorder, type EventRecorder } from '../../shared/events/recorder.js';

/**
 * CronJobs (issue 20) through the real event path (delayed queue messages bring each start time) and
 * the API over HTTP, with the real kubectl; then the controller on a clock the test moves, against
 * DynamoDB Local, for what takes minutes (Kubernetes names a run by its minute, so schedules finer
 * than a minute run at most once a minute there as here).
 */
let s: Awaited<ReturnType<typeof startEventPathApi>>;
let k: Kubectl;
const ns = 'default';

beforeAll(async () => {
  s = await startEventPathApi('cj-node');
  k = kubectlFor(s.url);
}, 60_000);
afterAll(() => s?.close());

const jobs = async () =>
  (await s.api.service.list(T('Job'), ns)).items
    .filter((j) => j.metadata.ownerReferences?.some((r) => r.kind === 'CronJob' && r.name === 'tick'))
    .filter((j) => !j.metadata.deletionTimestamp);
const cronJob = () => s.api.service.get(T('CronJob'), ns, 'tick');

describe.skipIf(!kubectlPath)('CronJob', () => {
  it('kubectl create cronjob makes one, printed as kubectl prints it', async () => {
    expect(
      await k.ok('create', 'cronjob', 'tick', '--image=busybox:1.36', '--schedule=@every 2s', '--', 'sh', '-c', 'date'),
    ).toBe('cronjob.batch/tick created\n');
    const cj = await cronJob();
    expect(cj.spec).toMatchObject({
      schedule: '@every 2s',
      concurrencyPolicy: 'Allow',
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
    });
    await k.ok(
      'patch',
      'cronjob',
      'tick',
      '-p',
      '{"spec":{"concurrencyPolicy":"Forbid","successfulJobsHistoryLimit":2}}',
    );
    expect(await k.ok('get', 'cj', 'tick', '--no-headers')).toMatch(
      /^tick\s+@every 2s\s+<none>\s+False\s+\d\s+\S+\s+\S+\n$/,
    );
  });

  it('starts a run within a few seconds of its start time, by a delayed message rather than a poll', async () => {
    await until(async () => (await jobs()).length > 0, 30_000);
    const [job] = await jobs();
    const scheduled = Date.parse(job?.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'] ?? '');
    const created = Date.parse(job?.metadata.creationTimestamp ?? '');
    expect(created - scheduled).toBeGreaterThanOrEqual(0);
    expect(created - scheduled).toBeLessThan(3_000);
    expect((await cronJob()).status).toMatchObject({ active: [{ kind: 'Job', name: job?.metadata.name }] });
  });

  it('kubectl create job --from=cronjob makes a manual Job the CronJob owns', async () => {
    expect(await k.ok('create', 'job', 'tick-manual', '--from=cronjob/tick')).toBe('job.batch/tick-manual created\n');
    const job = await s.api.service.get(T('Job'), ns, 'tick-manual');
    expect(job.metadata.annotations).toMatchObject({ 'cronjob.kubernetes.io/instantiate': 'manual' });
    expect(job.metadata.ownerReferences).toMatchObject([{ kind: 'CronJob', name: 'tick', controller: true }]);
  });

  it('refuses schedules and time zones Kubernetes refuses, in its words', async () => {
    const r = await k.run('create', 'cronjob', 'bad', '--image=x', '--schedule=61 * * * *');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61');
    const tz = await k.run('patch', 'cronjob', 'tick', '-p', '{"spec":{"timeZone":"Mars/Olympus"}}');
    expect(tz.err).toContain('spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus');
  });
});

/** The CronJob controller on a clock the test moves, against DynamoDB Local and the real API rules. */
describe('CronJob controller over minutes', () => {
  const at = { t: Math.ceil(Date.now() / 60_000) * 60_000 + 30_000 };
  const clock = { now: () => new Date(at.t) };
  let stack: TestStack;
  let controller: CronJobController;
  let events: EventRecorder;
  const advance = (ms: number) => (at.t += ms);
  const reconcile = async () => {
    const r = await controller.reconcile({ namespace: ns, name: 'report' });
    await events.flush();
    return r;
  };
  const owned = async () =>
    (await stack.api.service.list(T('Job'), ns)).items.filter((j) => !j.metadata.deletionTimestamp);
  const active = async () =>
    ((await stack.api.service.get(T('CronJob'), ns, 'report')).status?.active ?? []) as { name: string }[];
  /** The Job ran to completion, as the Job controller would report it. */
  const complete = (name: string) =>
    stack.api.service.patch(
      T('Job'),
      ns,
      name,
      'merge',
      {
        status: {
          startTime: clock.now().toISOString(),
          completionTime: clock.now().toISOString(),
          conditions: [{ type: 'Complete', status: 'True' }],
        },
      },
      'status',
    );

  beforeAll(async () => {
    stack = await freshStack(clock);
    events = storeEventRecorder(stack.store, clock, 'test', randomUUID);
    controller = new CronJobController({ store: stack.store, service: stack.api.service, clock, events });
    await stack.api.service.create(T('CronJob'), ns, {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'report' },
      spec: {
        schedule: '* * * * *',
        concurrencyPolicy: 'Forbid',
        successfulJobsHistoryLimit: 2,
        jobTemplate: {
          spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
        },
      },
    });
  });

  it('waits for its first start time, then asks to look again just after the next one', async () => {
    const r = await reconcile();
    expect(await owned()).toEqual([]);
    expect(r.requeueAfterMs).toBe(30_100);
    // Another reconcile meanwhile (a change of the CronJob) leaves that one message be.
    expect((await reconcile()).requeueAfterMs).toBeUndefined();
    advance(30_100); // the delayed message comes
    const next = await reconcile();
    expect((await owned()).map((j) => j.metadata.name)).toEqual([`report-${Math.floor(at.t / 60_000)}`]);
    expect(next.requeueAfterMs).toBe(60_000);
  });

  it('with Forbid, never runs two at once: a missed start runs once the running one finishes', async () => {
    advance(60_000);
    await reconcile();
    expect(await owned()).toHaveLength(1);
    const [running] = await owned();
    await complete(running?.metadata.name ?? '');
    await reconcile();
    expect((await active()).map((r) => r.name)).toEqual([`report-${Math.floor(at.t / 60_000)}`]);
    const names = (await owned()).map((j) => j.metadata.name);
    expect(names).toHaveLength(2);
  });

  it('keeps only successfulJobsHistoryLimit finished runs', async () => {
    for (let i = 0; i < 3; i++) {
      for (const r of await active()) await complete(r.name);
      advance(60_000);
      await reconcile();
    }
    const all = await owned();
    const done = all.filter((j) => (j.status?.conditions as any[])?.some((c) => c.type === 'Complete'));
    expect(done).toHaveLength(2);
    expect(all).toHaveLength(3);
  });

  it('after three minutes without a reconcile, starts exactly one catch-up run', async () => {
    for (const r of await active()) await complete(r.name);
    await reconcile();
    const before = new Set((await owned()).map((j) => j.metadata.name));
    advance(3 * 60_000);
    await reconcile();
    await reconcile();
    const started = (await owned()).filter((j) => !before.has(j.metadata.name));
    expect(started.map((j) => j.metadata.name)).toEqual([`report-${Math.floor(at.t / 60_000)}`]);
  });

  it('a suspended CronJob starts nothing', async () => {
    for (const r of await active()) await complete(r.name);
    await stack.api.service.patch(T('CronJob'), ns, 'report', 'merge', { spec: { suspend: true } });
    await reconcile();
    const before = (await owned()).length;
    advance(5 * 60_000);
    await reconcile();
    expect(await owned()).toHaveLength(before);
    expect(await active()).toEqual([]);
  });
});
