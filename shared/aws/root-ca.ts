import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

/**
 * What verifies the API from inside a pod (`kube-root-ca.crt`): the configured CA file (offline, the
 * stack's own CA), else Amazon Trust Services' roots from Node's bundle, which the certificate of an
 * AWS endpoint (the HTTP API pods dial there) chains to. Read once per container.
 */
const bundles = new Map<string, string>();

export function rootCABundle(file: string | undefined): string {
  const key = file ?? '';
  let pem = bundles.get(key);
  if (pem === undefined) {
    pem = file ? readFileSync(file, 'utf8') : amazonRoots();
    // Without one, every pod's token volume would wait for a ConfigMap that never comes: fail loudly.
    if (!pem.includes('-----BEGIN CERTIFICATE-----'))
      throw new Error(`no CA certificate for kube-root-ca.crt in ${file ?? "Node's bundle (no Amazon roots)"}`);
    bundles.set(key, pem);
  }
  return pem;
}

function amazonRoots(): string {
  return tls.rootCertificates
    .filter((pem) => /O=Amazon\b/.test(new X509Certificate(pem).subject))
    .map((pem) => `${pem.trim()}\n`)
    .join('');
}
