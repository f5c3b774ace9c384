/**
 * `kumo <command>`:
 *   kumo kubeconfig [--server http://127.0.0.1:3000] [--name kumo-local] [--namespace default] [--out FILE]
 *     writes (or prints) a kubeconfig for the local stack, so `kubectl --kubeconfig FILE get pods` works.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { kubeconfig } from './kubeconfig.js';

const [command, ...rest] = process.argv.slice(2);
if (command === 'kubeconfig') {
  const { values } = parseArgs({
    args: rest,
    options: { server: { type: 'string', default: `http://127.0.0.1:${process.env.KUMO_PORT ?? '3000'}` }, name: { type: 'string' }, namespace: { type: 'string' }, out: { type: 'string' } },
  });
  const text = kubeconfig({ server: values.server ?? '', name: values.name, namespace: values.namespace });
  if (values.out) {
    writeFileSync(values.out, text, { mode: 0o600 });
    console.error(`wrote ${values.out}; try: kubectl --kubeconfig ${values.out} get all -A`);
  } else process.stdout.write(text);
} else {
  console.error('usage: kumo kubeconfig [--server URL] [--name NAME] [--namespace NS] [--out FILE]');
  process.exit(command ? 2 : 0);
}
