# syntax=docker/dockerfile:1
#
# One Dockerfile, one image per service:
#   docker build --target ingest   -t qcs-ingest .
#   docker build --target recorder -t qcs-recorder .
#   docker build --target scanner  -t qcs-scanner \
#     --build-arg QSCANNER_VERSION=4.6.0-4 \
#     --build-arg QSCANNER_URL='<the download link Qualys gives for that version>' \
#     --build-arg QSCANNER_SHA256=<sha256 of that tarball> .
#   docker build --target scanner-sim -t qcs-scanner-sim .   (the qscanner simulator, for docker-compose)
#   docker build --target arm-emulator -t qcs-arm-emulator .  (the local ARM endpoint, for docker-compose)
#
# Node 24 runs the TypeScript sources directly (type stripping), so there is no compile step and no build
# output: each image holds the service's src/, the shared library's src/ and production dependencies only.
# Checked by infra/test/dockerfile.test.ts.

# Keep in step with the "node" devDependency in package.json (the test compares them).
ARG NODE_VERSION=24.21.0
ARG DEBIAN_RELEASE=trixie

FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS node-base
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app

# Every workspace manifest: npm ci checks the whole lockfile even when it installs a few workspaces.
FROM node-base AS manifests
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY test-support/package.json test-support/
COPY emulators/package.json emulators/
COPY services/ingest/package.json services/ingest/
COPY services/scanner/package.json services/scanner/
COPY services/recorder/package.json services/recorder/
COPY cli/package.json cli/

# Production dependencies of one service and the shared library, exactly as locked. No install scripts
# run: nothing here needs one.
FROM manifests AS deps-ingest
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace shared --workspace services/ingest

FROM manifests AS deps-scanner
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace shared --workspace services/scanner

FROM manifests AS deps-recorder
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace shared --workspace services/recorder

# The emulators workspace, for the local ARM endpoint in docker-compose.yml (never deployed).
FROM manifests AS deps-emulators
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace emulators

# What every service image has: the root manifest (ESM, workspaces) and the shared library's sources.
# Node's compile cache, filled at build time by running each service's --help (which loads all its
# modules): a replica then starts without stripping and compiling the TypeScript again. 1 MB semi-spaces
# (V8's young generation): an idle replica holds ~23 MB less (bench/startup.bench.ts: recorder 118 against
# 141 MB) for more frequent minor GCs, cheap at these services' allocation rates.
FROM node-base AS service-base
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache \
    NODE_OPTIONS=--max-semi-space-size=1
COPY package.json ./
COPY shared/package.json shared/
COPY shared/src shared/src
EXPOSE 8080

FROM service-base AS ingest
COPY --from=deps-ingest /app/node_modules node_modules
COPY services/ingest/package.json services/ingest/
COPY services/ingest/src services/ingest/src
RUN node services/ingest/src/main.ts --help > /dev/null
USER node
CMD ["node", "services/ingest/src/main.ts"]

FROM service-base AS recorder
COPY --from=deps-recorder /app/node_modules node_modules
COPY services/recorder/package.json services/recorder/
COPY services/recorder/src services/recorder/src
RUN node services/recorder/src/main.ts --help > /dev/null
USER node
CMD ["node", "services/recorder/src/main.ts"]

# The scanner runs qscanner as a child process: tini reaps whatever qscanner leaves behind (Node as PID 1
# does not), and qscanner needs the system CA certificates for the registry and the Qualys platform.
FROM service-base AS scanner-base
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
COPY --from=deps-scanner /app/node_modules node_modules
COPY services/scanner/package.json services/scanner/
COPY services/scanner/src services/scanner/src
RUN node services/scanner/src/main.ts --help > /dev/null
ENTRYPOINT ["/usr/bin/tini", "--"]

# Local stack only (docker-compose.yml): the qscanner simulator from emulators/ stands in for the binary at
# the same path, so the scanner cannot tell the difference. Never pushed to Azure by deploy.sh.
FROM scanner-base AS scanner-sim
COPY emulators/package.json emulators/
COPY emulators/src/qscanner-sim emulators/src/qscanner-sim
RUN ln -s /app/emulators/src/qscanner-sim/qscanner.js /usr/local/bin/qscanner
ENV QSCANNER_VERSION=simulator
USER node
CMD ["node", "services/scanner/src/main.ts"]

# Local stack only (docker-compose.yml): the project's ARM endpoint, serving container groups, apps and jobs
# from an inventory file so ingest resolves events without an Azure subscription. It writes its self-signed
# certificate (valid for the name "arm") into /certs, a volume ingest mounts for ARM_CA_FILE.
FROM node-base AS arm-emulator
COPY package.json ./
COPY --from=deps-emulators /app/node_modules node_modules
COPY emulators/package.json emulators/
COPY emulators/src emulators/src
COPY emulators/config/arm emulators/config/arm
RUN mkdir /certs && chown node:node /certs
USER node
EXPOSE 8443
ENTRYPOINT ["node", "emulators/src/bin.ts", "--only", "arm", "--host", "0.0.0.0", "--arm-port", "8443"]
CMD ["--arm-cert-name", "arm", "--arm-ca-file", "/certs/arm-ca.pem"]

# The real qscanner, fetched once at build time and verified against the checksum given with it; nothing
# is downloaded at run time. Qualys's download links carry an opaque token per artifact, hence a URL
# build argument rather than a pattern.
FROM debian:${DEBIAN_RELEASE}-slim AS qscanner-download
ARG QSCANNER_VERSION
ARG QSCANNER_URL
ARG QSCANNER_SHA256
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
RUN set -eu; \
    : "${QSCANNER_VERSION:?set --build-arg QSCANNER_VERSION}"; \
    : "${QSCANNER_URL:?set --build-arg QSCANNER_URL to the download link for that version}"; \
    : "${QSCANNER_SHA256:?set --build-arg QSCANNER_SHA256 to the tarball checksum}"; \
    curl --fail --silent --show-error --location --proto '=https' --tlsv1.2 \
      --output /tmp/qscanner.tar.gz "$QSCANNER_URL"; \
    echo "${QSCANNER_SHA256}  /tmp/qscanner.tar.gz" | sha256sum --check --strict -; \
    mkdir /tmp/qscanner; \
    tar -xzf /tmp/qscanner.tar.gz -C /tmp/qscanner; \
    binary="$(find /tmp/qscanner -type f -name qscanner | head -n 1)"; \
    test -n "$binary" || { echo "no qscanner binary in the tarball" >&2; exit 1; }; \
    sums="$(find /tmp/qscanner -type f -name qscanner.sha256 | head -n 1)"; \
    if [ -n "$sums" ]; then \
      echo "$(cut -d ' ' -f 1 "$sums")  $binary" | sha256sum --check --strict -; \
    fi; \
    install -m 0755 "$binary" /usr/local/bin/qscanner

FROM scanner-base AS scanner
ARG QSCANNER_VERSION
COPY --from=qscanner-download /usr/local/bin/qscanner /usr/local/bin/qscanner
ENV QSCANNER_VERSION=${QSCANNER_VERSION}
USER node
CMD ["node", "services/scanner/src/main.ts"]
