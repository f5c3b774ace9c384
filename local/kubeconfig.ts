import { stringify } from 'yaml';

/**
 * A kubeconfig kubectl accepts for a kumo API: offline over https with the local stack's CA (or plain
 * http on loopback), with a token or none (the dev-loopback mode needs none from 127.0.0.1).
 */
export function kubeconfig(opts: {
  server: string;
  name?: string;
  namespace?: string;
  token?: string;
  /** The CA that signed the server's certificate, base64 PEM (kubeconfig's certificate-authority-data). */
  certificateAuthorityData?: string;
}): string {
  const name = opts.name ?? 'kumo-local';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name,
        cluster: {
          server: opts.server,
          ...(opts.certificateAuthorityData ? { 'certificate-authority-data': opts.certificateAuthorityData } : {}),
        },
      },
    ],
    users: [{ name, user: opts.token ? { token: opts.token } : {} }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: opts.namespace ?? 'default' } }],
    'current-context': name,
    preferences: {},
  });
}
