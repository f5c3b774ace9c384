import { randomBytes } from 'node:crypto';
import { fnv1a } from './hash.js';

/** Kubernetes' generateName alphabet (apimachinery's rand.String): no vowels, no look-alikes. */
export const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * `length` characters of the alphabet spelled from a hash of `seed`. With `rehash` (a template's hash),
 * spelling continues from a hash of what is spelled when the seed's hash runs out; without it (slot
 * names, which must stay the names earlier versions gave) it continues with the alphabet's first letter.
 */
export function hashedSuffix(seed: string, length: number, opts: { rehash: boolean }): string {
  let h = fnv1a(seed) % 0x7fffffff;
  let out = '';
  for (let i = 0; i < length; i++) {
    out += NAME_ALPHABET[h % NAME_ALPHABET.length];
    h = Math.floor(h / NAME_ALPHABET.length);
    if (h === 0 && opts.rehash) h = fnv1a(out) % 0x7fffffff;
  }
  return out;
}

/** Five random characters of the alphabet, as generateName appends. */
export function randomNameSuffix(): string {
  return [...randomBytes(5)].map((b) => NAME_ALPHABET[b % NAME_ALPHABET.length]).join('');
}
