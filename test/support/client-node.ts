import { KubeConfig } from '@kubernetes/client-node';

/** The official JavaScript client's configuration for a kumo API at `server` (plain http, loopback only, no token). */
export function clientNodeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  // client-node refuses plain http unless TLS verification is explicitly skipped (loopback only).
  kc.loadFromOptions({
    clusters: [{ name: 'kumo', server, skipTLSVerify: true }],
    users: [{ name: 'kumo' }],
    contexts: [{ name: 'kumo', cluster: 'kumo', user: 'kumo' }],
    currentContext: 'kumo',
  });
  return kc;
}
