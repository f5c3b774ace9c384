/**
 * Where the ServiceAccount token signing key is kept: one private key (PKCS#8 PEM) for the cluster,
 * written once by whichever API container first needs it. Only the API reads it.
 */
export interface SigningKeyStore {
  get(): Promise<string | undefined>;
  /** Stores the key unless one exists; false when another writer's key is already there (read that one). */
  putIfAbsent(pem: string): Promise<boolean>;
}
