/**
 * What every node serves (the Services with their endpoints) as one digest, beside a generation the
 * change path bumps whenever a Service or EndpointSlice changes. A node's fetch compares the digest it
 * holds with the recorded one (one small read) and lists Services and EndpointSlices only when they
 * differ or the generation moved since the digest was recorded.
 */
export interface ServicesDigestState {
  generation: number;
  digest?: string;
  /** The generation the digest was computed at: when it lags `generation`, the digest is stale. */
  digestGeneration?: number;
}

export interface ServicesDigestStore {
  read(): Promise<ServicesDigestState>;
  /** Something every node serves changed. */
  bump(): Promise<void>;
  /**
   * Records the digest of a listing begun at `generation`; a no-op when the generation moved meanwhile
   * (a change during the listing: the digest may be older than the change).
   */
  record(generation: number, digest: string): Promise<void>;
}

/** Whether the recorded digest is the current one and equals `known`. */
export const digestCurrent = (s: ServicesDigestState, known: string | undefined): boolean =>
  known !== undefined && s.digest === known && s.digestGeneration === s.generation;
