import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensurePki } from '../../../local/pki.js';

/** The offline CA and serving certificate: kept across starts, re-issued when a name pods dial is missing. */
describe('ensurePki', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kumo-pki-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const serving = () => new X509Certificate(readFileSync(join(dir, 'apiserver.crt')));

  it('names loopback, kubernetes.default.svc and the addresses asked for, and keeps the certificate while they stay', () => {
    const first = ensurePki(dir, new Date(), ['10.96.0.1']);
    expect(serving().subjectAltName).toContain('DNS:kubernetes.default.svc.cluster.local');
    expect(serving().subjectAltName).toContain('IP Address:127.0.0.1');
    expect(serving().subjectAltName).toContain('IP Address:10.96.0.1');
    expect(serving().verify(new X509Certificate(first.caPem).publicKey)).toBe(true);
    expect(ensurePki(dir, new Date(), ['10.96.0.1']).certPem).toBe(first.certPem);
  });

  it('re-issues the serving certificate under the same CA when the service range moved', () => {
    const before = ensurePki(dir, new Date(), ['10.96.0.1']);
    const after = ensurePki(dir, new Date(), ['127.96.0.1']);
    expect(after.caPem).toBe(before.caPem);
    expect(after.certPem).not.toBe(before.certPem);
    expect(serving().subjectAltName).toContain('IP Address:127.96.0.1');
  });
});
