import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

/**
 * The offline stack's certificate authority and API serving certificate, as kubeadm makes them
 * (/etc/kubernetes/pki/ca.crt, apiserver.crt): made at first start under `.kumo/pki/`, kept across
 * starts so a kubeconfig written once stays valid, and the serving certificate re-issued by the same
 * CA when it nears its end. The serving names are loopback's and the in-cluster names of the
 * `kubernetes` Service (kubernetes.default.svc…), as kube-apiserver's certificate carries them.
 */

export interface Pki {
  caFile: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

const CA_YEARS = 10;
const SERVING_DAYS = 365;
/** A serving certificate this close to its end is replaced at start. */
const RENEW_WITHIN_DAYS = 30;
const DAY_MS = 86_400_000;
export const SERVING_NAMES = [
  'localhost',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
];
export const SERVING_IPS = ['127.0.0.1', '::1'];

function rsaKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
}

function certificate(opts: {
  subject: string;
  key: forge.pki.rsa.PrivateKey;
  issuer?: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey };
  days: number;
  ca: boolean;
  now: Date;
  ips?: string[];
}): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(opts.key.n, opts.key.e);
  // A positive serial: the high bit clear.
  cert.serialNumber = `0${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(opts.now.getTime() - 60_000);
  cert.validity.notAfter = new Date(opts.now.getTime() + opts.days * DAY_MS);
  cert.setSubject([{ name: 'commonName', value: opts.subject }]);
  cert.setIssuer(opts.issuer ? opts.issuer.cert.subject.attributes : [{ name: 'commonName', value: opts.subject }]);
  cert.setExtensions(
    opts.ca
      ? [
          { name: 'basicConstraints', cA: true, critical: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
          { name: 'subjectKeyIdentifier' },
        ]
      : [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
          { name: 'extKeyUsage', serverAuth: true },
          {
            name: 'subjectAltName',
            altNames: [
              ...SERVING_NAMES.map((value) => ({ type: 2, value })),
              ...(opts.ips ?? SERVING_IPS).map((ip) => ({ type: 7, ip })),
            ],
          },
        ],
  );
  cert.sign(opts.issuer?.key ?? opts.key, forge.md.sha256.create());
  return cert;
}

/**
 * The CA and serving certificate under `dir`, made or renewed as needed; the serving certificate also
 * names `ips` (the `kubernetes` Service's cluster IP, which pods dial) and is re-issued when it does not.
 */
export function ensurePki(dir: string, now: Date = new Date(), ips: string[] = []): Pki {
  const servingIps = [...new Set([...SERVING_IPS, ...ips])];
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = {
    caCrt: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    crt: join(dir, 'apiserver.crt'),
    key: join(dir, 'apiserver.key'),
  };
  if (!existsSync(files.caCrt) || !existsSync(files.caKey)) {
    const key = rsaKey();
    const cert = certificate({ subject: 'kumo-ca', key, days: CA_YEARS * 365, ca: true, now });
    writeFileSync(files.caKey, forge.pki.privateKeyToPem(key), { mode: 0o600 });
    writeFileSync(files.caCrt, forge.pki.certificateToPem(cert));
  }
  const caPem = readFileSync(files.caCrt, 'utf8');
  const fresh =
    existsSync(files.crt) &&
    existsSync(files.key) &&
    (() => {
      const serving = new X509Certificate(readFileSync(files.crt));
      const named = (serving.subjectAltName ?? '').split(', ');
      return (
        serving.verify(new X509Certificate(caPem).publicKey) &&
        Date.parse(serving.validTo) - now.getTime() > RENEW_WITHIN_DAYS * DAY_MS &&
        ips.every((ip) => named.includes(`IP Address:${ip}`))
      );
    })();
  if (!fresh) {
    const issuer = {
      cert: forge.pki.certificateFromPem(caPem),
      key: forge.pki.privateKeyFromPem(readFileSync(files.caKey, 'utf8')),
    };
    const key = rsaKey();
    const cert = certificate({
      subject: 'kube-apiserver',
      key,
      issuer,
      days: SERVING_DAYS,
      ca: false,
      now,
      ips: servingIps,
    });
    writeFileSync(files.key, forge.pki.privateKeyToPem(key), { mode: 0o600 });
    writeFileSync(files.crt, forge.pki.certificateToPem(cert));
  }
  return {
    caFile: files.caCrt,
    caPem,
    certPem: readFileSync(files.crt, 'utf8'),
    keyPem: readFileSync(files.key, 'utf8'),
  };
}
