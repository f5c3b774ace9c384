/**
 * A counter the change path bumps whenever a set of objects changes (RBAC's), so a process that keeps
 * a copy of them learns with one small read whether its copy is still current, instead of listing
 * them again (a cross-namespace list reads every namespace's partition).
 */
export interface GenerationStore {
  read(): Promise<number>;
  bump(): Promise<void>;
}
