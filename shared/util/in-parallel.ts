/** Runs `f` over `items` with at most `width` calls in flight (a controller's burst of writes). */
export async function inParallel<T>(items: T[], width: number, f: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await f(items[next++] as T);
    }),
  );
}
