import type { TokenRecord } from './principal.js';

/** Where token records live (the objects table on AWS and offline alike; see DynamoTokenStore). */
export interface TokenStore {
  get(id: string): Promise<TokenRecord | undefined>;
  /** Creates or replaces the record with this id (a node's new credential replaces its old one). */
  put(record: TokenRecord): Promise<void>;
  list(): Promise<TokenRecord[]>;
  /** Marks the record revoked; false when there is no such record. */
  revoke(id: string, at: string): Promise<boolean>;
}
