import { servicesSuite } from './services-suite.js';

/** Services with cluster IPs carried by the user-space proxy (what a node without root or nft uses). */
servicesSuite({
  dataPath: 'userspace',
  cidr: '10.98.0.0/16',
  nodePorts: '31300-32767',
  lbPort: 18090,
  node: 'svc-user-node',
});
