/**
 * Small documents the control plane keeps beside the API objects (not objects: no resourceVersion, no
 * change record, nothing watches them), each under a key, expiring once nobody refreshes them.
 */
export interface SideItems<T> {
  put(key: string, value: T, nowMs: number): Promise<void>;
  /**
   * Writes unless the key was written within the last `withinMs` (a conditional write: of two writers
   * at once, one wins). True when this call wrote.
   */
  putUnlessRecent(key: string, value: T, nowMs: number, withinMs: number): Promise<boolean>;
  /** The documents of these keys that exist. */
  get(keys: string[]): Promise<T[]>;
  list(): Promise<T[]>;
}
