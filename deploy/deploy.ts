/**
 * `npm run deploy -- --stage NAME [--region REGION]`: deploys the control plane with osls, creates
 * the system namespaces and, the first time, an admin token (shown once), then says how to connect
 * kubectl and start agents. Needs AWS credentials (any the AWS SDK finds: env, profile, SSO).
 */
import { parseArgs } from 'node:util';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { apiDeps } from '../shared/apiserver/wiring.js';
import { TokenService } from '../shared/auth/token-service.js';
import { systemClock } from '../shared/util/clock.js';
import { DynamoStore } from '../shared/store/dynamo/dynamo-store.js';
import { DynamoTokenStore } from '../shared/store/dynamo/dynamo-token-store.js';
import { ensureBootstrapPolicy, ensureRootCAConfigMaps, ensureSystemNamespaces } from '../local/setup.js';
import { rootCABundle } from '../shared/aws/root-ca.js';
import { ensureExternalKubernetesService } from '../shared/apiserver/kubernetes-service.js';
import { checkStage, serverless, stackOutputs, tableName } from './stage.js';

const { values } = parseArgs({
  options: { stage: { type: 'string' }, region: { type: 'string', default: process.env.AWS_REGION ?? 'us-east-1' } },
});
const stage = checkStage(values.stage);
const region = values.region ?? 'us-east-1';

await serverless(['deploy', '--stage', stage, '--region', region]);

const outputs = await stackOutputs(new CloudFormationClient({ region }), stage);
const api = outputs.HttpApiUrl ?? '';
const nodesUrl = (outputs.NodesLambdaFunctionUrl ?? '').replace(/\/$/, '');
const dynamo = new DynamoDBClient({ region });
// Namespaces and RBAC objects hold no Secrets, so this store needs no KMS access.
const seedService = apiDeps(new DynamoStore(dynamo, tableName(stage), systemClock), systemClock, console.error).service;
await ensureSystemNamespaces(seedService);
await ensureBootstrapPolicy(seedService);
// Pods verify the API with it; namespaces from before the root CA publisher get it now.
await ensureRootCAConfigMaps(seedService, rootCABundle(undefined));
// The `kubernetes` Service names the HTTP API's host (pods are told it by their nodes, KUMO_API_URL).
if (api) await ensureExternalKubernetesService(seedService, api);

const tokens = new TokenService(new DynamoTokenStore(dynamo, tableName(stage)), systemClock);
const hasAdmin = (await tokens.list()).some((r) => r.type === 'user' && r.role === 'cluster-admin' && !r.revokedAt);
const admin = hasAdmin ? undefined : await tokens.createUserToken({ name: 'admin', role: 'cluster-admin' });

console.log(`
kumo ${stage} is deployed in ${region}.
  API            ${api}
  node endpoint  ${nodesUrl}
  agent policy   ${outputs.AgentPolicyArn ?? ''} (attach to the agents' instance profile or task role)
  alarms         ${outputs.AlarmTopicArn ?? ''} (subscribe an email or chat hook)
`);
if (admin)
  console.log(
    `The first admin token, shown once (store it now; kumo token list/revoke manage it):\n  ${admin.token}\n`,
  );
else
  console.log(
    'An admin token already exists; create more with: npx kumo token create --stage ' +
      stage +
      ' --name NAME --role cluster-admin\n',
  );
console.log(`kubectl:
  npx kumo kubeconfig --server ${api} --token ${admin ? admin.token : '<token>'} --name kumo-${stage} --out ~/.kube/kumo-${stage}
  KUBECONFIG=~/.kube/kumo-${stage} kubectl get nodes

Agents (see README "Running agents on AWS"):
  TOKEN=$(npx kumo bootstrap-token create --stage ${stage} --region ${region} --ttl 3600)
  kumo-agent --server ${nodesUrl} --node-name $(hostname) --runtime docker --cloud aws --bootstrap-token $TOKEN --log-group /kumo/${stage}/containers
`);
