import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * No AWS account is reachable here, so the deployment is checked where it is decided: the
 * CloudFormation template `serverless package` generates for a production stage (and a dev stage,
 * for what differs). Nothing is mocked: this is the template `npm run deploy` would submit.
 */
type Resource = { Type: string; Properties: any; DeletionPolicy?: string };
type Template = { Resources: Record<string, Resource>; Outputs?: Record<string, unknown> };

const root = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

async function packageStage(stage: string): Promise<Template> {
  const dir = mkdtempSync(join(tmpdir(), `kumo-package-${stage}-`));
  const failed = (e: { message: string; stdout?: string }) => {
    throw new Error(`serverless package --stage ${stage} failed: ${e.message}\n${e.stdout ?? ''}`);
  };
  await run(
    process.execPath,
    [
      join(root, 'node_modules', 'osls', 'bin', 'serverless.js'),
      'package',
      '--stage',
      stage,
      '--region',
      'eu-west-1',
      '--package',
      dir,
    ],
    {
      cwd: root,
      // A deployer's shell, not the offline stack's: no KUMO_* overrides.
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KUMO_'))),
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
        KUMO_ESBUILD_WORK_FOLDER: `.esbuild-package-${stage}`,
      },
      timeout: 240_000,
    },
  ).catch(failed);
  rmSync(join(root, `.esbuild-package-${stage}`), { recursive: true, force: true });
  return JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
}

let prod: Template;
let dev: Template;
const of = (t: Template, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const functions = () => of(prod, 'AWS::Lambda::Function');

beforeAll(async () => {
  // One after the other: both stages zip through the project's .serverless folder.
  prod = await packageStage('prod');
  dev = await packageStage('dev');
}, 300_000);

describe('functions', () => {
  it('every function runs nodejs22.x on arm64 with a timeout and memory chosen for it', () => {
    expect(functions().length).toBe(6);
    for (const [name, f] of functions()) {
      expect(f.Properties.Runtime, name).toBe('nodejs22.x');
      expect(f.Properties.Architectures, name).toEqual(['arm64']);
      expect(f.Properties.Timeout, name).toBeLessThanOrEqual(60);
      expect([256, 512], name).toContain(f.Properties.MemorySize);
    }
  });

  it('every function is bundled on its own (esbuild, one artifact per function)', () => {
    const keys = functions().map(([, f]) => JSON.stringify(f.Properties.Code.S3Key));
    expect(new Set(keys).size).toBe(functions().length);
  });

  it('every function has a role of its own', () => {
    const roles = functions().map(([, f]) => f.Properties.Role?.['Fn::GetAtt']?.[0]);
    expect(roles.every((r) => typeof r === 'string' && prod.Resources[r]?.Type === 'AWS::IAM::Role')).toBe(true);
    expect(new Set(roles).size).toBe(functions().length);
    expect(prod.Resources.IamRoleLambdaExecution).toBeUndefined(); // no shared execution role
  });

  it('every handler in functions/ is deployed and wired to exactly the events it expects', () => {
    const handlers = readdirSync(join(root, 'functions'))
      .filter((f) => f.endsWith('.ts') && f !== 'deps.ts')
      .map((f) => f.replace(/\.ts$/, ''));
    const logical = (h: string) => `${h[0]?.toUpperCase()}${h.slice(1)}LambdaFunction`;
    expect(handlers.sort()).toEqual(
      functions()
        .map(([n]) => n.replace(/LambdaFunction$/, '').toLowerCase())
        .sort(),
    );
    const eventsOf = (h: string) => {
      const fn = logical(h);
      const targets = (r: Resource) => JSON.stringify(r.Properties ?? {}).includes(`"${fn}"`);
      const out: string[] = [];
      for (const [, r] of Object.entries(prod.Resources)) {
        if (r.Type === 'AWS::Lambda::EventSourceMapping' && targets(r))
          out.push(
            `esm:${r.Properties.EventSourceArn['Fn::GetAtt'][0]}.${r.Properties.EventSourceArn['Fn::GetAtt'][1]}`,
          );
        if (r.Type === 'AWS::Lambda::Url' && targets(r)) out.push(`url:${r.Properties.AuthType}`);
        if (r.Type === 'AWS::Events::Rule' && targets(r)) out.push(`schedule:${r.Properties.ScheduleExpression}`);
        if (r.Type === 'AWS::ApiGatewayV2::Integration' && targets(r)) out.push('httpApi');
      }
      return out.sort();
    };
    expect(Object.fromEntries(handlers.map((h) => [h, eventsOf(h)]))).toEqual({
      api: ['httpApi'],
      nodes: ['url:NONE'], // the function authenticates every call itself (node credentials)
      dispatch: ['esm:ObjectsTable.StreamArn'],
      scheduler: ['esm:SchedulerQueue.Arn'],
      controllers: ['esm:ControllersQueue.Arn'],
      sweep: ['schedule:rate(1 minute)'],
    });
    const routes = of(prod, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey);
    expect(routes).toEqual(['$default']);
  });

  it('event source mappings report partial failures, retry boundedly and park what keeps failing', () => {
    for (const [name, m] of of(prod, 'AWS::Lambda::EventSourceMapping')) {
      expect(m.Properties.FunctionResponseTypes, name).toEqual(['ReportBatchItemFailures']);
      expect(m.Properties.BatchSize, name).toBeGreaterThan(0);
    }
    const stream = of(prod, 'AWS::Lambda::EventSourceMapping').find(
      ([, m]) => m.Properties.EventSourceArn['Fn::GetAtt'][1] === 'StreamArn',
    )?.[1];
    expect(stream?.Properties).toMatchObject({
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['DispatchDeadLetterQueue', 'Arn'] } } },
    });
    expect(stream?.Properties.FilterCriteria.Filters).toHaveLength(2);
    for (const q of ['SchedulerQueue', 'ControllersQueue']) {
      const p = prod.Resources[q]?.Properties;
      expect(p.RedrivePolicy.maxReceiveCount, q).toBe(5);
      expect(prod.Resources[p.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0]]?.Type, q).toBe('AWS::SQS::Queue');
      expect(p.VisibilityTimeout, q).toBeGreaterThanOrEqual(6 * 60);
    }
  });
});

/** Every IAM statement the template grants (function roles and the agents' managed policy). */
function statements(t: Template) {
  const out: { where: string; Action: string[]; Resource: unknown[] }[] = [];
  for (const [name, r] of Object.entries(t.Resources)) {
    const docs =
      r.Type === 'AWS::IAM::Role'
        ? (r.Properties.Policies ?? []).map((p: any) => p.PolicyDocument)
        : r.Type === 'AWS::IAM::ManagedPolicy' || r.Type === 'AWS::IAM::Policy'
          ? [r.Properties.PolicyDocument]
          : [];
    for (const d of docs)
      for (const s of d.Statement) out.push({ where: name, Action: [s.Action].flat(), Resource: [s.Resource].flat() });
  }
  return out;
}

describe('least privilege', () => {
  it('no statement has a wildcard action or an unscoped resource; every resource is this stage’s', () => {
    const all = statements(prod);
    expect(all.length).toBeGreaterThan(20);
    const problems: string[] = [];
    // The two exceptions, and nothing more: ECR's GetAuthorizationToken has no resource to scope it to,
    // and the node pulls private images from this account's repositories in the stage's region (the
    // user's repositories, not the stage's).
    const ecr = all.filter((s) => s.Action.some((a) => a.startsWith('ecr:')));
    expect(ecr.map((s) => [s.where, s.Action.sort(), s.Resource])).toEqual([
      ['AgentPolicy', ['ecr:GetAuthorizationToken'], ['*']],
      [
        'AgentPolicy',
        ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        [{ 'Fn::Sub': 'arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*' }],
      ],
    ]);
    for (const s of all) {
      if (ecr.includes(s)) continue;
      for (const a of s.Action) if (a.includes('*')) problems.push(`${s.where}: action ${a}`);
      for (const r of s.Resource) {
        if (typeof r === 'string') problems.push(`${s.where}: literal resource ${r}`);
        else if (r && typeof r === 'object' && 'Fn::Sub' in r) {
          const text = String((r as { 'Fn::Sub': unknown })['Fn::Sub']);
          // A pattern is allowed only under this stage's own names (node queues, log groups, index ARNs).
          if (!/kumo-prod-|\/kumo\/prod\/|^\$\{ObjectsTable\.Arn\}\/index\/\*$/.test(text))
            problems.push(`${s.where}: resource ${text} is not scoped to the stage`);
          if (/:\*:|^\*$|:\*$/.test(text.replace(/\$\{[^}]+\}/g, 'x')) && !/kumo-prod-|\/kumo\/prod\//.test(text))
            problems.push(`${s.where}: wildcard ${text}`);
        } else if (!(r && typeof r === 'object' && ('Fn::GetAtt' in r || 'Ref' in r)))
          problems.push(`${s.where}: resource ${JSON.stringify(r)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('only the functions that read or write Secrets may use the KMS key, and only for data keys', () => {
    const kmsUsers = statements(prod).filter((s) => s.Action.some((a) => a.startsWith('kms:')));
    expect([...new Set(kmsUsers.map((s) => s.where))].sort()).toEqual(['ApiRole', 'ControllersRole', 'NodesRole']);
    for (const s of kmsUsers) {
      expect(s.Action.sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
      expect(s.Resource).toEqual([{ 'Fn::GetAtt': ['SecretsKey', 'Arn'] }]);
    }
    expect(prod.Resources.SecretsKey?.Properties.EnableKeyRotation).toBe(true);
  });

  it('the sweep only reads the table; the dispatcher never touches it except through its stream', () => {
    const actions = (role: string) =>
      statements(prod)
        .filter((s) => s.where === role)
        .flatMap((s) => s.Action);
    expect(
      actions('SweepRole')
        .filter((a) => a.startsWith('dynamodb:'))
        .sort(),
    ).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query']);
    expect(
      actions('DispatchRole')
        .filter((a) => a.startsWith('dynamodb:'))
        .sort(),
    ).toEqual(['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams']);
  });
});

describe('data, logs and alarms', () => {
  it('the objects table has its stream, PITR, encryption, TTL, and survives stack removal', () => {
    const t = prod.Resources.ObjectsTable as Resource;
    expect(t.DeletionPolicy).toBe('Retain');
    expect(t.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      DeletionProtectionEnabled: true,
    });
    expect(t.Properties.GlobalSecondaryIndexes.map((g: any) => g.IndexName).sort()).toEqual([
      'byNode',
      'byOwner',
      'unscheduled',
    ]);
    expect(dev.Resources.ObjectsTable?.Properties.DeletionProtectionEnabled).toBe(false); // dev stages can be torn down
  });

  it('every log group has a retention period', () => {
    const groups = of(prod, 'AWS::Logs::LogGroup');
    expect(groups.length).toBe(7); // six functions and the containers' group
    for (const [name, g] of groups) expect(g.Properties.RetentionInDays, name).toBeGreaterThan(0);
  });

  it('alarms watch every dead-letter queue and every function’s errors, and notify one topic', () => {
    const alarms = of(prod, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const watchedQueues = alarms
      .filter((a) => a.Namespace === 'AWS/SQS')
      .map((a) => a.Dimensions[0].Value['Fn::GetAtt'][0]);
    const dlqs = of(prod, 'AWS::SQS::Queue')
      .map(([n]) => n)
      .filter((n) => n.includes('DeadLetter'));
    expect(dlqs.length).toBe(3);
    expect(watchedQueues.sort()).toEqual(dlqs.sort());
    const watchedFunctions = alarms
      .filter((a) => a.Namespace === 'AWS/Lambda' && a.MetricName === 'Errors')
      .map((a) => a.Dimensions[0].Value.Ref);
    expect(watchedFunctions.sort()).toEqual(
      functions()
        .map(([n]) => n)
        .sort(),
    );
    for (const a of alarms) expect(a.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
  });

  it('the API is throttled at the stage, and the API function refuses the offline modes on AWS', () => {
    expect(prod.Resources.HttpApiStage?.Properties.DefaultRouteSettings).toMatchObject({
      ThrottlingRateLimit: expect.any(Number),
      ThrottlingBurstLimit: expect.any(Number),
    });
    const env = (prod.Resources.ApiLambdaFunction as Resource).Properties.Environment.Variables;
    expect(env).toMatchObject({
      KUMO_AUTH_MODE: 'tokens',
      KUMO_KMS_KEY_ID: 'alias/kumo-prod-secrets',
      KUMO_SECRETS_KEY: '',
      KUMO_DYNAMODB_ENDPOINT: '',
    });
  });
});
