import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DescribeStacksCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';

/** What the deploy and remove commands share: the stage's names (serverless.yml) and running osls. */
export const root = join(import.meta.dirname, '..');
export const stackName = (stage: string) => `kumo-${stage}`;
export const tableName = (stage: string) => `kumo-${stage}-objects`;

export function checkStage(stage: string | undefined): string {
  if (stage && /^[a-z][a-z0-9-]{0,20}$/.test(stage)) return stage;
  console.error('--stage NAME is required: lower-case letters, digits and dashes, at most 21 characters');
  process.exit(2);
}

/** Runs osls with the terminal attached; the offline stack's KUMO_* variables are not passed to AWS. */
export function serverless(args: string[]): Promise<void> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KUMO_')));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'node_modules', 'osls', 'bin', 'serverless.js'), ...args], {
      cwd: root,
      stdio: 'inherit',
      env: { ...env, SLS_TELEMETRY_DISABLED: '1' },
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`serverless ${args[0]} failed (exit ${code})`)),
    );
  });
}

export async function stackOutputs(cfn: CloudFormationClient, stage: string): Promise<Record<string, string>> {
  const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName(stage) }));
  return Object.fromEntries((out.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
}
