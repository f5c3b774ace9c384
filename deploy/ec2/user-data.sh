#!/bin/bash
# EC2 user data for a kumo node (Amazon Linux 2023). Fill in the values, or template them from your
# launch template. The instance profile needs the stack's AgentPolicy (output AgentPolicyArn: its
# wake-up queue and container logs) and ssm:GetParameter on the bootstrap token's parameter.
#
# Credentials: the instance reads a short-lived bootstrap token from SSM Parameter Store (refresh it
# daily: npx kumo bootstrap-token create --stage STAGE --ttl 86400 | aws ssm put-parameter \
#   --name /kumo/STAGE/bootstrap-token --type SecureString --overwrite --value file:///dev/stdin)
# and exchanges it once for its own node credential, kept in /var/lib/kumo-agent (mode 0600).
set -euo pipefail
STAGE="prod"
KUMO_SERVER="https://REPLACE-WITH-NODES-FUNCTION-URL.lambda-url.us-east-1.on.aws"   # npm run deploy prints it
KUMO_AGENT_URL="https://REPLACE-WITH-YOUR-BUCKET.s3.amazonaws.com/kumo-agent.mjs"    # `npm run build:agent` makes dist/kumo-agent.mjs

dnf install -y nodejs20 docker
ln -sf /usr/bin/node-20 /usr/bin/node 2>/dev/null || true
systemctl enable --now docker

mkdir -p /opt/kumo /var/lib/kumo-agent
curl -fsSL "$KUMO_AGENT_URL" -o /opt/kumo/kumo-agent.mjs

# IMDSv2: the node is named after the instance's private DNS name, like EKS nodes.
TOKEN=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H 'x-aws-ec2-metadata-token-ttl-seconds: 60')
NODE_NAME=$(curl -fsS -H "x-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/local-hostname)
REGION=$(curl -fsS -H "x-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/placement/region)

BOOTSTRAP=$(aws ssm get-parameter --region "$REGION" --name "/kumo/$STAGE/bootstrap-token" --with-decryption --query Parameter.Value --output text)

cat > /etc/kumo-agent.env <<ENV
KUMO_AGENT_SERVER=$KUMO_SERVER
KUMO_AGENT_BOOTSTRAP_TOKEN=$BOOTSTRAP
KUMO_AGENT_NODE_NAME=$NODE_NAME
KUMO_AGENT_RUNTIME=docker
KUMO_AGENT_CLOUD=aws
KUMO_AGENT_DOCKER_SOCKET=/var/run/docker.sock
KUMO_AGENT_DATA_DIR=/var/lib/kumo-agent
KUMO_LOG_GROUP=/kumo/$STAGE/containers
AWS_REGION=$REGION
ENV
chmod 600 /etc/kumo-agent.env

curl -fsSL "${KUMO_AGENT_URL%/*}/kumo-agent.service" -o /etc/systemd/system/kumo-agent.service
systemctl daemon-reload
systemctl enable --now kumo-agent
