import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Bearer tokens look like `kumo.<id>.<secret>`: the id (base64url) finds the stored record with one
 * GetItem, the secret is checked against the SHA-256 hash stored there. Secrets are 256 random bits,
 * so a fast hash is enough (no password-style stretching is needed for keys nobody chose).
 */
const PREFIX = 'kumo';

export interface ParsedToken {
  id: string;
  secret: string;
}

export const newSecret = (): string => randomBytes(32).toString('base64url');
export const newTokenId = (): string => randomBytes(9).toString('base64url');

export const formatToken = (t: ParsedToken): string =>
  `${PREFIX}.${Buffer.from(t.id, 'utf8').toString('base64url')}.${t.secret}`;

export function parseToken(raw: string): ParsedToken | undefined {
  const parts = raw.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX || !parts[1] || !parts[2]) return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(parts[1]) || !/^[A-Za-z0-9_-]{16,}$/.test(parts[2])) return undefined;
  return { id: Buffer.from(parts[1], 'base64url').toString('utf8'), secret: parts[2] };
}

export const hashSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The `Authorization: Bearer <token>` header's token, if the header is one. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}
