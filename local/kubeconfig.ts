import { stringify } from 'yaml';

/** A kubeconfig kubectl accepts for a kumo API (offline: plain http on loopback, no credentials). */
export function kubeconfig(opts: { server: string; name?: string; namespace?: string; token?: string }): string {
  const name = opts.name ?? 'kumo-local';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: opts.server } }],
    users: [{ name, user: opts.token ? { token: opts.token } : {} }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: opts.namespace ?? 'default' } }],
    'current-context': name,
    preferences: {},
  });
}
