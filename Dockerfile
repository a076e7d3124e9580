# syntax=docker/dockerfile:1
# The Inventory Service image (docs/deploy-aws.md). Build: docker build -t inventory-service .
# Two stages: the build stage compiles with the dev dependencies (buf, ts-proto, tsc);
# the runtime stage has only the production dependencies (npm ci --omit=dev: no embedded
# databases, which are devDependencies), the compiled code and docker/*.mjs.
ARG NODE_VERSION=24.22.3

FROM node:${NODE_VERSION}-trixie-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# The image's Node is new enough, so the Makefile uses it rather than fetching its own.
RUN --mount=type=cache,target=/root/.npm make build

FROM node:${NODE_VERSION}-trixie-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist/src ./dist/src
COPY docker ./docker
# The CA bundle of RDS (the instance and replica certificates; RDS Proxy uses public ACM
# certificates that Node trusts already), so URLs with sslmode=verify-full verify.
ADD --chmod=644 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /etc/ssl/certs/rds-global-bundle.pem
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/rds-global-bundle.pem \
    GRPC_HOST=0.0.0.0 \
    GRPC_PORT=50051
USER node
EXPOSE 50051
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["node", "docker/healthcheck.mjs"]
ENTRYPOINT ["node", "docker/launch.mjs"]
CMD ["dist/src/main.js"]
