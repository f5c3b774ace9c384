/**
 * The layers of shared/ (README "How it is built"; ARCHITECTURE.md §2), checked by `npm run lint`:
 * model ← ports ← domain ← apiserver ← functions/local. Nothing imports upward; no cycles.
 */
const MODEL = '^shared/(model|util)/';
const PORTS = '^shared/(store|queue)/[^/]+$';
const ADAPTERS = '^shared/(store/dynamo|queue/sqs|aws)/';
const DOMAIN = '^shared/(scheduling|controllers|nodes|auth|agent|events|logs|secrets|ingress)/';
const APISERVER = '^shared/apiserver/';
const EDGE = '^(functions|local|agent|bin|deploy|bench|tools)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'An import cycle ties two modules into one: break it by moving what both need down a layer.',
      severity: 'error',
      from: { path: '^(shared|functions|local|agent)/' },
      to: { circular: true },
    },
    {
      name: 'floor-imports-nothing',
      comment: 'shared/model and shared/util are the floor: they import nothing of kumo (model may use util).',
      severity: 'error',
      from: { path: MODEL },
      to: { path: '^(shared|functions|local|agent)/', pathNot: MODEL },
    },
    {
      name: 'ports-import-the-model-only',
      comment: 'The store and queue ports speak in model terms only.',
      severity: 'error',
      from: { path: PORTS },
      to: { path: '^(shared|functions|local|agent)/', pathNot: [MODEL, PORTS] },
    },
    {
      name: 'domain-never-imports-upward',
      comment:
        'Domain code never imports the API server, the adapters, functions/ or local/: they are wired in from above.',
      severity: 'error',
      from: { path: DOMAIN },
      to: { path: [APISERVER, ADAPTERS, EDGE, '^shared/config\\.ts$'] },
    },
    {
      name: 'adapters-never-import-the-roof',
      comment: 'Adapters translate between a port and AWS; they do not reach into the API server or the edge.',
      severity: 'error',
      from: { path: ADAPTERS },
      to: { path: [APISERVER, EDGE] },
    },
    {
      name: 'apiserver-never-imports-the-edge',
      severity: 'error',
      from: { path: APISERVER },
      to: { path: [EDGE, ADAPTERS, '^shared/config\\.ts$'] },
    },
    {
      name: 'shared-never-imports-the-edge',
      comment: 'functions/, local/ and the agent command are composition roots: nothing in shared/ imports them.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: EDGE },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
  },
};
