/** FNV-1a (32 bit): a stable, cheap hash of a string. Kubernetes' pod-template-hash is FNV too. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Spreads strings over `shards` buckets, the same bucket for the same string everywhere. */
export const shardOf = (s: string, shards: number): number => fnv1a(s) % shards;
