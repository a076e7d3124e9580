# Everything a fresh clone needs comes from here: only Node >= 20 and make are assumed.
SHELL := /bin/bash
BIN := node_modules/.bin
PROTO := $(shell find proto -name '*.proto')
SRC := $(shell find src test bench clients/src -name '*.ts' -not -path 'src/gen/*' -not -path 'clients/src/gen/*' 2>/dev/null)
CLIENT_SRC := $(shell find clients/src -name '*.ts' -not -path 'clients/src/gen/*' 2>/dev/null)

.PHONY: all install generate build client lint typecheck test run migrate bench bench-allocation bench-read bench-stream breaking clean admin verify rebuild provision

all: build

install: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

generate: src/gen/.stamp
src/gen/.stamp: node_modules/.installed $(PROTO) buf.yaml buf.gen.yaml scripts/embed-descriptors.mjs scripts/client-index.mjs
	$(BIN)/buf generate
	$(BIN)/buf build -o src/gen/descriptors.binpb
	node scripts/embed-descriptors.mjs src/gen/descriptors.binpb src/gen/descriptor-set.ts
	node scripts/client-index.mjs src/gen/descriptors.binpb clients/src/gen/index.ts
	@touch $@

build: dist/.stamp
dist/.stamp: src/gen/.stamp $(SRC) tsconfig.json
	$(BIN)/tsc -p tsconfig.json
	@touch $@

# The published client package (clients/): ESM + .d.ts in clients/dist, compiled with the
# root's TypeScript and type packages (clients/ has no node_modules of its own).
client: clients/dist/.stamp
clients/dist/.stamp: src/gen/.stamp $(CLIENT_SRC) clients/tsconfig.json clients/package.json
	rm -rf clients/dist
	$(BIN)/tsc -p clients/tsconfig.json
	@touch $@

typecheck: src/gen/.stamp
	$(BIN)/tsc -p tsconfig.json --noEmit

lint: src/gen/.stamp
	$(BIN)/buf lint
	$(BIN)/tsc -p tsconfig.json --noEmit

# Compatibility of the contracts with main (run before merging contract changes).
breaking: node_modules/.installed
	$(BIN)/buf breaking --against '.git#branch=main'

test: lint build client
	$(BIN)/mocha 'dist/test/**/*.test.js'

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

# Benchmarks, run by hand; each prints ratios measured in one run (README "Benchmarks").
bench: bench-allocation bench-read

bench-allocation: build
	node dist/bench/allocation.js

bench-read: build
	node dist/bench/read-path.js

# StreamEvents to a slow client: read-ahead and heap stay flat (README "Event store").
bench-stream: build
	node --expose-gc dist/bench/stream-backpressure.js

clean:
	rm -rf dist src/gen clients/dist clients/src/gen
