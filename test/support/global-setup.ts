import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/dynamodb-local.js';
import { freePort } from '../../local/ports.js';
import { startSqsEmulator } from '../../local/sqs-emulator.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    sqsEndpoint: string;
  }
}

/** Starts the real DynamoDB Local (in memory) and the SQS emulator once, and stops both at the end. */
export default async function setup(project: TestProject) {
  const ddb = await startDynamoDbLocal({ port: await freePort() });
  const sqs = await startSqsEmulator({ port: await freePort() });
  project.provide('dynamoEndpoint', ddb.endpoint);
  project.provide('sqsEndpoint', sqs.endpoint);
  return async () => {
    await sqs.stop();
    await ddb.stop();
  };
}
