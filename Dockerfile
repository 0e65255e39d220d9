# syntax=docker/dockerfile:1
#
# The ECP worker image: the production worker (`worker/main.ts`) connecting to the Temporal server named by
# TEMPORAL_ADDRESS, with the plane configuration mounted at ECP_CONFIG. See README.md, "Running in production".
#
#   docker build -t ecp-worker .
#   docker run --init -e TEMPORAL_ADDRESS=temporal.example.com:7233 -e ECP_CONFIG=/etc/ecp/ecp.yaml \
#     -v "$PWD/deploy:/etc/ecp:ro" ecp-worker
#
# There is no build step: TypeScript runs through tsx, which is a runtime dependency in package.json (that is why
# `npm ci --omit=dev` is enough). The workflow code is bundled by the Temporal SDK when the worker starts.

FROM node:20-bookworm-slim

# CA certificates for TLS to Temporal (mTLS / Temporal Cloud) and to HTTPS executors and context providers.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates \
  && rm -rf /var/lib/apt/lists/*

# ECP_DATA_DIR holds the evidence archive and pinned policy bundles; it stays out of /app. The worker needs
# TEMPORAL_ADDRESS: without it, it refuses to start (no hidden embedded dev server in production).
ENV NODE_ENV=production \
    ECP_DATA_DIR=/home/node/.ecp-data

WORKDIR /app

# Dependencies first, so a source change does not reinstall them. The lockfile pins every version.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
  && npm cache clean --force

# Sources (see .dockerignore for what stays out). Owned by root and not writable by the worker user.
COPY . .

# The data directory (evidence archive, pinned policy bundles) is a volume in docker-compose.yml: create it owned by
# the worker user, so a fresh named volume inherits that ownership.
RUN mkdir -p /home/node/.ecp-data/archive && chown -R node:node /home/node/.ecp-data

# Run as the unprivileged user the Node image provides.
USER node

# `node --import tsx` rather than `npm run worker`: node is the process that receives SIGTERM (graceful worker
# shutdown) and SIGHUP (configuration reload), with no npm wrapper in between. Same entry point as `npm run worker`.
# A heap cap keeps the worker's memory flat: without it V8 lets garbage grow towards a quarter of the host's RAM.
CMD ["node", "--max-old-space-size=512", "--import", "tsx", "worker/main.ts"]
