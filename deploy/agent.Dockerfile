# The agent as a container image, for ECS (deploy/ecs/*.json). Build after `npm run build:agent`:
#   docker build -f deploy/agent.Dockerfile -t <account>.dkr.ecr.<region>.amazonaws.com/kumo-agent:0.1.0 .
FROM public.ecr.aws/docker/library/node:22-alpine
COPY dist/kumo-agent.mjs /opt/kumo/kumo-agent.mjs
USER node
ENTRYPOINT ["node", "/opt/kumo/kumo-agent.mjs"]
