/**
 * `kumo <command>`: the administrator's tool. Token commands talk to the stage's DynamoDB table
 * directly with your AWS credentials (the root of trust, as IAM is for EKS), or with `--local` to the
 * stack `npm start` is running.
 *
 *   kumo kubeconfig [--server URL | --stage S [--region R]] [--token TOKEN] [--name NAME] [--namespace NS] [--out FILE]
 *   kumo token create --name NAME --role cluster-admin|admin|edit|view|none [--namespaces a,b] [--groups g1,g2] [--ttl SECONDS]  (--stage S [--region R] | --local)
 *   kumo token list   (--stage S [--region R] | --local)
 *   kumo token revoke ID   (--stage S [--region R] | --local)
 *   kumo bootstrap-token create [--name NAME] [--ttl SECONDS]   (--stage S [--region R] | --local)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { kubeconfig } from './kubeconfig.js';
import { dynamoClient } from '../shared/aws/clients.js';
import { systemClock } from '../shared/util/clock.js';
import { TokenService } from '../shared/auth/token-service.js';
import type { Role } from '../shared/auth/principal.js';
import { DynamoTokenStore } from '../shared/store/dynamo/dynamo-token-store.js';
import { StatusError } from '../shared/model/errors.js';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { stackOutputs } from '../deploy/stage.js';

const USAGE = `usage:
  kumo kubeconfig [--server URL | --stage S [--region R]] [--token TOKEN] [--name NAME] [--namespace NS] [--out FILE]
  kumo token create --name NAME --role cluster-admin|admin|edit|view|none [--namespaces a,b] [--groups g1,g2] [--ttl SECONDS]  (--stage S [--region R] | --local)
  kumo token list   (--stage S [--region R] | --local)
  kumo token revoke ID   (--stage S [--region R] | --local)
  kumo bootstrap-token create [--name NAME] [--ttl SECONDS]   (--stage S [--region R] | --local)`;

const root = join(import.meta.dirname, '..');
const [command, ...rest] = process.argv.slice(2);

const target = {
  stage: { type: 'string' },
  region: { type: 'string' },
  local: { type: 'boolean', default: false },
} as const;

interface LocalStack {
  api: string;
  https?: string;
  caFile?: string;
  dynamoEndpoint: string;
  tableName: string;
  region: string;
}

/** What the running `npm start` wrote about itself, if one runs. */
function localStack(): LocalStack | undefined {
  try {
    return JSON.parse(readFileSync(join(root, '.kumo', 'stack.json'), 'utf8')) as LocalStack;
  } catch {
    return undefined;
  }
}

/** The table of a deployed stage (serverless.yml: kumo-<stage>-objects) or of the running local stack. */
function tokenService(v: { stage?: string; region?: string; local?: boolean }): TokenService {
  if (v.local) {
    const s = localStack();
    if (!s) throw new Error('no local stack is running (start one with npm start)');
    return new TokenService(
      new DynamoTokenStore(dynamoClient({ region: s.region, dynamoEndpoint: s.dynamoEndpoint }), s.tableName),
      systemClock,
    );
  }
  if (!v.stage) throw new Error('say which control plane: --stage NAME (deployed) or --local');
  const region = v.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  return new TokenService(
    new DynamoTokenStore(dynamoClient({ region, dynamoEndpoint: undefined }), `kumo-${v.stage}-objects`),
    systemClock,
  );
}

async function main(): Promise<number> {
  const sub = rest[0];
  if (command === 'kubeconfig') {
    const { values } = parseArgs({
      args: rest,
      options: {
        server: { type: 'string' },
        stage: { type: 'string' },
        region: { type: 'string' },
        token: { type: 'string' },
        name: { type: 'string' },
        namespace: { type: 'string' },
        out: { type: 'string' },
      },
    });
    // A deployed stage's API URL comes from its stack; otherwise the local stack's.
    if (!values.server && values.stage) {
      const region = values.region ?? process.env.AWS_REGION ?? 'us-east-1';
      values.server = (await stackOutputs(new CloudFormationClient({ region }), values.stage)).HttpApiUrl;
      if (!values.server)
        throw new Error(
          `the stack kumo-${values.stage} in ${region} has no HttpApiUrl output (deployed with npm run deploy?)`,
        );
      values.name ??= `kumo-${values.stage}`;
    }
    // The running local stack's addresses (npm start writes them): with a token its https one and CA (kubectl
    // sends tokens only over https), without one its http one (dev-loopback needs none; over https with no
    // credentials kubectl would prompt for a password).
    let caPem: string | undefined;
    const local = values.server ? undefined : localStack();
    if (local && values.token && local.https && local.caFile) {
      values.server = local.https;
      caPem = readFileSync(local.caFile, 'utf8');
    } else if (local) values.server = local.api;
    values.server ??= `http://127.0.0.1:${process.env.KUMO_PORT ?? '3000'}`;
    if (values.token && values.server?.startsWith('http:'))
      console.error(
        'note: kubectl sends a token only over https; against http://127.0.0.1 the dev-loopback mode needs none',
      );
    const text = kubeconfig({
      server: values.server ?? '',
      name: values.name,
      namespace: values.namespace,
      token: values.token,
      ...(caPem ? { certificateAuthorityData: Buffer.from(caPem).toString('base64') } : {}),
    });
    if (values.out) {
      writeFileSync(values.out, text, { mode: 0o600 });
      console.error(`wrote ${values.out}; try: kubectl --kubeconfig ${values.out} get all -A`);
    } else process.stdout.write(text);
    return 0;
  }
  if (command === 'token' && sub === 'create') {
    const { values } = parseArgs({
      args: rest.slice(1),
      options: {
        ...target,
        name: { type: 'string' },
        role: { type: 'string' },
        namespaces: { type: 'string' },
        groups: { type: 'string' },
        ttl: { type: 'string' },
      },
    });
    if (!values.name || !values.role) throw new Error('token create needs --name and --role');
    const list = (v: string | undefined) =>
      v
        ?.split(',')
        .map((n) => n.trim())
        .filter(Boolean);
    const issued = await tokenService(values).createUserToken({
      name: values.name,
      role: values.role as Role,
      namespaces: list(values.namespaces),
      groups: list(values.groups),
      ttlSeconds: values.ttl ? Number(values.ttl) : undefined,
    });
    console.error(
      `created token ${issued.record.id} for ${issued.record.name} (${issued.record.role}${issued.record.namespaces?.length ? ` in ${issued.record.namespaces.join(',')}` : ''}); it is shown once:`,
    );
    console.log(issued.token);
    return 0;
  }
  if (command === 'token' && sub === 'list') {
    const { values } = parseArgs({ args: rest.slice(1), options: target });
    const rows = (await tokenService(values).list()).map((r) => [
      r.id,
      r.type,
      r.name,
      r.role ?? '',
      (r.namespaces ?? []).join(',') || (r.role === 'cluster-admin' ? '*' : ''),
      (r.groups ?? []).join(','),
      r.createdAt,
      r.expiresAt ?? '',
      r.revokedAt ? `revoked ${r.revokedAt}` : 'active',
    ]);
    const header = ['ID', 'TYPE', 'NAME', 'ROLE', 'NAMESPACES', 'GROUPS', 'CREATED', 'EXPIRES', 'STATE'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    for (const r of [header, ...rows])
      console.log(
        r
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd(),
      );
    return 0;
  }
  if (command === 'token' && sub === 'revoke') {
    const { values, positionals } = parseArgs({ args: rest.slice(1), options: target, allowPositionals: true });
    if (!positionals[0]) throw new Error('token revoke needs the token ID (see kumo token list)');
    await tokenService(values).revoke(positionals[0]);
    console.error(
      `revoked ${positionals[0]} (warm API containers may honour it for up to KUMO_AUTH_CACHE_SECONDS more)`,
    );
    return 0;
  }
  if (command === 'bootstrap-token' && sub === 'create') {
    const { values } = parseArgs({
      args: rest.slice(1),
      options: { ...target, name: { type: 'string', default: 'agents' }, ttl: { type: 'string', default: '3600' } },
    });
    const issued = await tokenService(values).createBootstrapToken(values.name ?? 'agents', Number(values.ttl));
    console.error(
      `created bootstrap token ${issued.record.id}, valid until ${issued.record.expiresAt}; give it to agents as KUMO_AGENT_BOOTSTRAP_TOKEN:`,
    );
    console.log(issued.token);
    return 0;
  }
  console.error(USAGE);
  return command ? 2 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`kumo: ${e instanceof StatusError || e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
