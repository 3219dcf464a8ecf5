# syntax=docker/dockerfile:1
# One image for the daemon and its jobs (docs/deployment.md#packaging):
#   daemon: node dist/daemon/main.js serve        (the entrypoint and default command)
#   job:    node dist/services/job/job-main.cjs   (the command a job's pod sets, from /app)
# Build: docker build -t dynamos-ts .   The runtime stage holds the production dependencies,
# dist/ and the files the daemon reads at run time, and runs as the image's `node` user (1000).

ARG NODE_IMAGE=node:20-bookworm-slim

# Compiles TypeScript and bundles the job entry: `npm ci` runs `prepare`, which builds dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts/prepare.js scripts/
COPY knowledge knowledge
COPY daemon daemon
COPY adapters adapters
COPY services services
COPY proto proto
COPY replay replay
COPY experiments experiments
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund \
 && test -f dist/daemon/main.js && test -f dist/services/job/job-main.cjs
# What the npm package leaves out too (package.json "files"): source maps, benchmarks, the fake
# cluster the tests run against, tsc's state.
RUN find dist -name '*.map' -delete && rm -rf dist/experiments/bench dist/experiments/fake-cluster dist/.tsbuildinfo*

# Production dependencies only. npm picks the optional packages of this platform: DuckDB's
# native binding (@duckdb/node-bindings-linux-x64, or -linux-arm64 on arm64) comes from here.
FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/prepare.js scripts/
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /src/node_modules node_modules
COPY package.json LICENSE ./
COPY --from=build /src/dist dist
# What the daemon reads at run time: the bundled example marketplace (the default config) and the
# requests `dynamos demo` sends.
COPY experiments/marketplaces/example.yaml experiments/marketplaces/
COPY experiments/requests experiments/requests
# The default data directory, decision log and keys (./data) belong to the user the daemon runs as;
# in a cluster they are volumes instead.
RUN mkdir data && chown 1000:1000 data
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node", "dist/daemon/main.js"]
# Inside a container the daemon must listen beyond loopback to be reached at all.
CMD ["serve", "--host", "0.0.0.0"]
