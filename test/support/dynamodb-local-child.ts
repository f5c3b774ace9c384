// A process that starts DynamoDB Local, prints the JVM's pid and waits to be killed
// (test/integration/local-processes.test.ts kills it and looks for the JVM).
import { startDynamoDbLocal } from '../../local/dynamodb-local.js';
import { freePort } from '../../local/ports.js';

const ddb = await startDynamoDbLocal({ port: await freePort() });
console.log(`jvm ${ddb.process.pid}`);
setInterval(() => undefined, 60_000);
