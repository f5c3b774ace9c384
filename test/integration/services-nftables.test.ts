import { servicesSuite } from './services-suite.js';

/** Services with cluster IPs carried by nftables rules (the agent is root with `nft`). */
servicesSuite({
  dataPath: 'nftables',
  cidr: '10.97.0.0/16',
  nodePorts: '30000-31299',
  lbPort: 18080,
  node: 'svc-nft-node',
});
