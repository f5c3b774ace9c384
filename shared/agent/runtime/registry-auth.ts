import { isPlainObject } from '../../model/json.js';
import type { RegistryAuth } from './runtime.js';

/**
 * Registry credentials as kubelet's keyring reads them from a pod's imagePullSecrets
 * (pkg/credentialprovider: `kubernetes.io/dockerconfigjson` holds `{"auths": {...}}`, the legacy
 * `kubernetes.io/dockercfg` the map itself), and the match of an image to an entry: by registry host
 * (a leading `*.` matches one label) and then by path prefix, the longest entry first.
 */

const DOCKER_HUB = 'docker.io';
const HUB_ALIASES = new Set(['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com', DOCKER_HUB]);

/** The registry an image reference names: its first component when that looks like a host, else Docker Hub. */
export function registryOf(image: string): string {
  const first = image.split('/')[0] ?? '';
  const isHost = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return isHost ? normalHost(first) : DOCKER_HUB;
}

const normalHost = (host: string) => (HUB_ALIASES.has(host.toLowerCase()) ? DOCKER_HUB : host.toLowerCase());

/** `https://index.docker.io/v1/` → {host: docker.io, path: ''}; `registry:5000/team` → {host, path: 'team'}. */
function parseKey(key: string): { host: string; path: string } {
  const bare = key.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  const slash = bare.indexOf('/');
  const host = normalHost(slash < 0 ? bare : bare.slice(0, slash));
  const path = slash < 0 ? '' : bare.slice(slash + 1);
  // Docker Hub's legacy key carries its API version, not a repository path.
  return { host, path: host === DOCKER_HUB && /^v[12]$/.test(path) ? '' : path };
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (!pattern.startsWith('*.')) return false;
  const rest = host.split('.').slice(1).join('.');
  return pattern.slice(2) === rest;
}

interface DockerConfigEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

/** The entries of one pull secret's decoded payload; a payload that does not parse yields none. */
export function entriesOf(type: string | undefined, payload: string): RegistryAuth[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return [];
  }
  if (!isPlainObject(parsed)) return [];
  const auths = type === 'kubernetes.io/dockercfg' ? parsed : parsed.auths;
  if (!isPlainObject(auths)) return [];
  return Object.entries(auths).map(([key, raw]) => {
    const e: DockerConfigEntry = isPlainObject(raw)
      ? Object.fromEntries(Object.entries(raw).filter(([, v]) => typeof v === 'string'))
      : {};
    let { username, password } = e;
    if ((!username || !password) && e.auth) {
      const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) [username, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
    }
    return {
      serveraddress: key,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(e.identitytoken ? { identitytoken: e.identitytoken } : {}),
    };
  });
}

/** The credentials for an image from `auth`, or undefined to pull anonymously. */
export function authFor(registry: string, auth: RegistryAuth[], image?: string): RegistryAuth | undefined {
  // The repository path after the registry host (all of it for a Docker Hub image named without one).
  const first = image?.split('/')[0] ?? '';
  const named = !!image?.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const repoPath = image ? (named ? image.slice(first.length + 1) : image) : '';
  const candidates = auth
    .map((a) => ({ a, key: parseKey(a.serveraddress) }))
    .filter(({ key }) => hostMatches(key.host, registry) && (!key.path || repoPath.startsWith(key.path)))
    .sort((x, y) => y.key.path.length - x.key.path.length);
  const hit = candidates[0]?.a;
  // The engine wants the registry's own address for the login, whatever spelling the secret used.
  return hit ? { ...hit, serveraddress: registry } : undefined;
}
