/**
 * Consecutive chunks of at most `count` items and `bytes` bytes (as `sizeOf` measures them): how
 * batches of writes are cut to fit DynamoDB's transactions (100 items, 4 MB).
 */
export function chunksBy<T>(items: T[], count: number, bytes: number, sizeOf: (item: T) => number): T[][] {
  const chunks: T[][] = [];
  let size = 0;
  for (const item of items) {
    const s = sizeOf(item);
    const last = chunks.at(-1);
    if (last && last.length < count && size + s <= bytes) {
      last.push(item);
      size += s;
    } else {
      chunks.push([item]);
      size = s;
    }
  }
  return chunks;
}
