/**
 * The node protocol's constants, free of the validation code (zod) so the agent's bundle stays
 * small: the agent imports these, the control plane validates with protocol.ts.
 */
export const NODE_API_PREFIX = '/kumo/v1/nodes';

/** Status reason when the agent's epoch is no longer current: it must stop its pods and register again. */
export const FENCED_REASON = 'NodeFenced';

/** What an agent may ask of the control plane: its calls (credentials with a bootstrap token), and the ConfigMaps/Secrets its pods' env refers to. */
const AGENT_PATHS = [
  new RegExp(`^${NODE_API_PREFIX}/[^/]+/(register|sync|credentials)$`),
  /^\/api\/v1\/namespaces\/[^/]+\/(configmaps|secrets)\/[^/]+$/,
];

export const isAgentPath = (path: string): boolean => AGENT_PATHS.some((p) => p.test(path));
