/**
 * The node protocol's constants, free of the validation code (zod) so the agent's bundle stays
 * small: the agent imports these, the control plane validates with protocol.ts.
 */
export const NODE_API_PREFIX = '/kumo/v1/nodes';

/** Status reason when the agent's epoch is no longer current: it must stop its pods and register again. */
export const FENCED_REASON = 'NodeFenced';

/**
 * What an agent may ask of the control plane: its calls (credentials with a bootstrap token), the
 * ConfigMaps, Secrets and claims its pods refer to, their volumes, and its pods' ServiceAccount tokens.
 */
const AGENT_PATHS = [
  new RegExp(`^${NODE_API_PREFIX}/[^/]+/(register|sync|credentials)$`),
  /^\/api\/v1\/namespaces\/[^/]+\/(configmaps|secrets|persistentvolumeclaims)\/[^/]+$/,
  /^\/api\/v1\/persistentvolumes\/[^/]+$/,
  /^\/api\/v1\/namespaces\/[^/]+\/serviceaccounts\/[^/]+\/token$/,
];

export const isAgentPath = (path: string): boolean => AGENT_PATHS.some((p) => p.test(path));
