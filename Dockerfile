# syntax=docker/dockerfile:1
# aws-access-bot image: `docker build -t aws-access-bot .`
# Build stage compiles TypeScript with the dev dependencies; the runtime stage carries only the
# production dependencies, the compiled dist/, the boundary templates and the example config.
# No secret is baked in: Slack tokens and the Redis URL arrive as environment variables at run time.
# Runs on the current Node LTS (24); Node 20 is end of life and the AWS SDK drops it. CI also runs
# the test suite on Node 24 (scripts/lts-node.sh) and lints this file (`npm run lint:docker`).

ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-assets.mjs ./scripts/
COPY src ./src
# `npm run build` compiles and copies the files the code reads at run time (the store's Lua
# scripts) next to the modules that load them.
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
# tini reaps zombies and forwards SIGTERM to node, so graceful shutdown (close workers,
# quit Redis) runs when Kubernetes stops the pod.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --system --gid 10001 aab \
  && useradd --system --uid 10001 --gid aab --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin aab
ENV NODE_ENV=production \
  PORT=3000 \
  AWS_ACCESS_CONFIG=/app/config/aws-access.yaml
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY templates ./templates
COPY config/example.yaml ./config/example.yaml
# A numeric user so Kubernetes can verify runAsNonRoot without resolving names.
USER 10001:10001
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/cli.js"]
CMD ["start", "--role", "all"]
