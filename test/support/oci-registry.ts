import { createServer, type Server } from 'node:http';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A registry on loopback that demands Basic credentials: the distribution API's read half
 * (`/v2/`, manifests, blobs) over an OCI layout directory (`podman push IMAGE oci:DIR`). It records
 * every Authorization header it receives, so a test sees what the engine sent on the agent's behalf.
 */
export interface TestRegistry {
  /** `127.0.0.1:<port>`. */
  host: string;
  /** Serves this OCI layout from now on (made after the registry starts: the engine must know its address first). */
  serve(layoutDir: string): void;
  /** Requests refused for want of the right credentials. */
  refused: number;
  /** The users whose credentials were accepted. */
  acceptedUsers: string[];
  close(): Promise<void>;
}

export async function startTestRegistry(
  repository: string,
  user: { name: string; password: string },
): Promise<TestRegistry> {
  let layoutDir = '';
  let manifest: { digest: string; mediaType: string } | undefined;
  const blobPath = (digest: string) => join(layoutDir, 'blobs', ...digest.split(':'));
  const expected = `Basic ${Buffer.from(`${user.name}:${user.password}`).toString('base64')}`;
  const state: TestRegistry = {
    host: '',
    refused: 0,
    acceptedUsers: [],
    serve(dir) {
      layoutDir = dir;
      const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
        manifests: { digest: string; mediaType: string }[];
      };
      manifest = index.manifests[0];
    },
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      state.refused++;
      res.writeHead(401, {
        'WWW-Authenticate': 'Basic realm="kumo-test"',
        'Docker-Distribution-API-Version': 'registry/2.0',
        'Content-Type': 'application/json',
      });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    state.acceptedUsers.push(user.name);
    const url = req.url ?? '';
    const send = (path: string, type: string, digest: string) => {
      const size = statSync(path).size;
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': size, 'Docker-Content-Digest': digest });
      res.end(req.method === 'HEAD' ? undefined : readFileSync(path));
    };
    if (url === '/v2/' || url === '/v2') {
      res.writeHead(200, { 'Docker-Distribution-API-Version': 'registry/2.0', 'Content-Type': 'application/json' });
      res.end('{}');
      return;
    }
    const m = new RegExp(`^/v2/${repository}/(manifests|blobs)/([^/?]+)`).exec(url);
    if (manifest && m?.[1] === 'manifests' && (m[2] === manifest.digest || !m[2]?.includes(':')))
      return send(blobPath(manifest.digest), manifest.mediaType, manifest.digest);
    if (m?.[1] === 'blobs' && m[2]) {
      try {
        return send(blobPath(m[2]), 'application/octet-stream', m[2]);
      } catch {
        // fall through to 404
      }
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'not here' }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  state.host = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  state.close = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}
