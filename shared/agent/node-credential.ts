import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { httpCall } from '../util/http-call.js';
import { NODE_API_PREFIX } from '../nodes/wire.js';
import { sleep } from '../util/retry.js';
import { isPlainObject } from '../model/json.js';

export interface CredentialSource {
  server: string;
  nodeName: string;
  /** A node credential given outright (it wins). */
  token?: string;
  /** A short-lived bootstrap token, exchanged once for this node's own credential. */
  bootstrapToken?: string;
  /** Where the node's credential is kept between restarts (mode 0600). */
  file: string;
  log?: (m: string) => void;
}

/**
 * The credential the agent presents: given, or kept from an earlier exchange, or obtained now with the
 * bootstrap token (like kubelet's TLS bootstrap). Undefined when none is configured (the offline
 * development mode needs none). To re-bootstrap after a revocation, delete the file.
 */
export async function nodeCredential(s: CredentialSource): Promise<string | undefined> {
  if (s.token) return s.token;
  const kept = readKept(s.file);
  if (kept) return kept;
  if (!s.bootstrapToken) return undefined;
  const url = `${s.server}${NODE_API_PREFIX}/${encodeURIComponent(s.nodeName)}/credentials`;
  for (let attempt = 1; ; attempt++) {
    let status = 0;
    let text = '';
    try {
      const res = await httpCall('POST', url, {
        headers: {
          authorization: `Bearer ${s.bootstrapToken}`,
          accept: 'application/json',
          'content-type': 'application/json',
        },
        body: '{}',
        timeoutMs: 10_000,
      });
      status = res.status;
      text = res.body;
    } catch (e) {
      text = String(e);
    }
    if (status === 201 || status === 200) {
      const body: unknown = JSON.parse(text);
      const token = isPlainObject(body) && typeof body.token === 'string' ? body.token : undefined;
      if (!token) throw new Error(`the control plane answered the credential request without a token`);
      mkdirSync(dirname(s.file), { recursive: true });
      writeFileSync(s.file, token + '\n', { mode: 0o600 });
      chmodSync(s.file, 0o600);
      s.log?.(`node ${s.nodeName}: obtained its node credential with the bootstrap token (kept in ${s.file})`);
      return token;
    }
    // 401/403 will not get better by retrying (expired or revoked bootstrap token, wrong role).
    if (status === 401 || status === 403 || status === 400 || attempt >= 30)
      throw new Error(`could not obtain a node credential: ${status || 'no answer'} ${text.slice(0, 300)}`);
    await sleep(Math.min(10_000, 500 * attempt));
  }
}

function readKept(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
