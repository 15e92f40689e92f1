# Pajarito — developer commands. `make help` lists them.
SHELL := bash
FUNCTIONS := $(notdir $(patsubst %/,%,$(wildcard functions/*/)))
GOFLAGS_LAMBDA := -tags lambda.norpc -trimpath -buildvcs=false -ldflags='-s -w -buildid='
DIST := dist

.PHONY: help setup dev test test-loaded race crash chaos spike bench-console vet fmt-check build synth bench fuzz report-screenshot console-screenshot clean

help: ## List the commands.
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t14

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

setup: node_modules/.package-lock.json ## Install the pinned npm tools (dynalite, aws-cdk) and Go modules.
	go mod download

dev: setup ## Run the whole system locally (no AWS account needed); ARGS="--team ana=agent,carla=contributor" adds people.
	go run ./cmd/pajarito dev $(ARGS)

test: setup fmt-check vet ## Run every test (unit, DynamoDB against dynalite, SQS against goaws, end-to-end on built Lambda binaries).
	go test -count=1 ./...

LOADED_RUNS ?= 5

test-loaded: setup ## The flakiness check: every test LOADED_RUNS (5) times in a row beside a busy loop on each core, then make race.
	@hogs=(); for i in $$(seq $$(nproc)); do (while :; do :; done) & hogs+=($$!); done; \
	trap 'kill $${hogs[@]} 2>/dev/null' EXIT; \
	echo "test-loaded: $${#hogs[@]} busy loops beside the tests"; \
	for i in $$(seq $(LOADED_RUNS)); do \
		echo "test-loaded: run $$i of $(LOADED_RUNS)"; \
		go test -count=1 ./... || { echo "test-loaded: run $$i of $(LOADED_RUNS) failed"; exit 1; }; \
	done; \
	echo "test-loaded: $(LOADED_RUNS) loaded runs passed"
	$(MAKE) --no-print-directory race

race: setup ## Every test of the project's packages under the race detector (infra's jsii runtime races in its own shutdown: run without -race).
	go test -race -count=1 $$(go list ./... | grep -v '/infra$$')

DECISIONS := shared/protocol shared/classify shared/listen

vet: ## go vet, staticcheck (the version go.mod pins; staticcheck.conf says which checks), and the decisions' size: no function over cyclomatic 30 (gocyclo) or 80 lines (cmd/funclen) in $(DECISIONS).
	go vet ./...
	go tool staticcheck ./...
	@out=$$(go tool gocyclo -over 30 -ignore '_test' $(DECISIONS)); \
	if [ -n "$$out" ]; then echo "$$out"; echo "gocyclo: functions over cyclomatic 30: split them at their sections"; exit 1; fi
	go run ./cmd/funclen -over 80 $(DECISIONS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

build: ## Build every Lambda function for AWS (linux/arm64 bootstrap + pajarito.json in dist/<function>/).
	@for f in $(FUNCTIONS); do \
		mkdir -p $(DIST)/$$f && \
		CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build $(GOFLAGS_LAMBDA) -o $(DIST)/$$f/bootstrap ./functions/$$f && \
		cp pajarito.json $(DIST)/$$f/ && echo "built $(DIST)/$$f/bootstrap" || exit 1; \
	done

synth: node_modules/.package-lock.json build ## Synthesize the AWS CDK stack (infra/) into cdk.out/, offline (no AWS account needed).
	CDK_DISABLE_CLI_TELEMETRY=1 CDK_DISABLE_VERSION_CHECK=1 JSII_DEPRECATED=quiet JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 \
		npx --no-install cdk synth --quiet --no-notices

bench: setup ## Run every benchmark (ns/op, allocs/op, write units, cold starts, the spike, the cost per million messages), then issue 14's figures in one table (cmd/benchtable).
	@set -o pipefail; out=$$(mktemp); \
	go test -run='^$$' -bench=. -benchmem -timeout 30m ./... | tee $$out; status=$$?; \
	echo; go run ./cmd/benchtable < $$out; rm -f $$out; exit $$status

CRASH_TRIALS ?= 20

crash: setup ## Kill pajarito dev with SIGKILL at CRASH_TRIALS (20) random points of a stream of deliveries and check that the restart ends as a clean run (PAJARITO_CRASH_SEED repeats a set).
	set -o pipefail; PAJARITO_CRASH_TRIALS=$(CRASH_TRIALS) go test -count=1 -run TestDevSurvivesSIGKILL -v ./cmd/pajarito | grep -E '^(=== RUN|--- |PASS|FAIL|ok)|crash_test.go'

CHAOS_TRIALS ?= 25

chaos: setup ## Fault-injection trials on the built Lambda binaries, CHAOS_TRIALS (25) per fault (crashed functions, DynamoDB killed, slow or unreachable, X failing, duplicate deliveries), invariants checked after each; the last line sums them up (PAJARITO_CHAOS_SEED repeats a set).
	@set -o pipefail; out=$$(mktemp); \
	PAJARITO_CHAOS_TRIALS=$(CHAOS_TRIALS) go test -count=1 -timeout 90m -run '^TestChaos$$' -v ./functions 2>&1 | tee $$out | grep -v '^=== '; status=$$?; \
	grep -o 'chaos: seed .*: all: .*' $$out | tail -1; rm -f $$out; exit $$status

spike: setup ## Issue 14's spike alone: 10,000 complaints (3 % delivered twice) within 10 minutes of the local system's clock at 2x, about 7 minutes; fails when an invariant breaks (PAJARITO_SPIKE_COMPLAINTS, _SPEED, _SEED change it).
	go test -count=1 -run='^$$' -bench='^BenchmarkSpike$$' -benchtime=1x -timeout=30m ./shared/local/localdev

bench-console: ## Measure the console in Chromium: first load (gzipped bytes), a 500-case queue's render time and its scroll (frame times).
	go test -run='^$$' -bench=BenchmarkConsoleQueue -benchtime=5x ./shared/console

fuzz: ## Fuzz the webhook parser for 60s.
	go test -run='^$$' -fuzz=FuzzParse -fuzztime=60s ./shared/xwebhook

CHROMIUM ?= /usr/bin/chromium
REPORT_URL ?= http://127.0.0.1:8080
REPORT_LANG ?= es
REPORT_SAMPLE := shared/report/testdata/sample.json

report-screenshot: ## Render the report of the local system (make dev; the sample data when none answers) and screenshot it with headless Chromium into dist/report.png.
	@test -x $(CHROMIUM) || { echo "report-screenshot: Chromium is not installed at $(CHROMIUM). Install it with: sudo apt-get install -y chromium (or set CHROMIUM=/path/to/chromium)"; exit 1; }
	@mkdir -p $(DIST)
	@go run ./cmd/pajarito report --url $(REPORT_URL) --lang $(REPORT_LANG) -o $(DIST)/report.html || { 		echo "report-screenshot: no report from $(REPORT_URL) (start it with make dev and export PAJARITO_AGENT_TOKEN): rendering $(REPORT_SAMPLE) instead"; 		go run ./cmd/pajarito report --data $(REPORT_SAMPLE) --lang $(REPORT_LANG) -o $(DIST)/report.html; }
	@profile=$$(mktemp -d) && rm -f $(DIST)/report.png && \
	$(CHROMIUM) --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --user-data-dir=$$profile --hide-scrollbars \
		--screenshot=$(CURDIR)/$(DIST)/report.png --window-size=1280,2000 file://$(CURDIR)/$(DIST)/report.html >$$profile.log 2>&1; \
	if [ -s $(DIST)/report.png ]; then echo "wrote $(DIST)/report.png"; rm -rf $$profile $$profile.log; \
	else cat $$profile.log; rm -rf $$profile $$profile.log; echo "report-screenshot: Chromium wrote no screenshot"; exit 1; fi

CONSOLE_URL ?= http://127.0.0.1:8080

console-screenshot: ## Screenshot the console of the running local system (make dev; PAJARITO_AGENT_TOKEN set) into dist/console-queue.png and dist/console-case.png.
	@test -x $(CHROMIUM) || { echo "console-screenshot: Chromium is not installed at $(CHROMIUM). Install it with: sudo apt-get install -y chromium (or set CHROMIUM=/path/to/chromium)"; exit 1; }
	@test -n "$$PAJARITO_AGENT_TOKEN" || { echo "console-screenshot: set PAJARITO_AGENT_TOKEN to the agent token make dev printed (or started with)"; exit 1; }
	@mkdir -p $(DIST)
	@id=$$(curl -sf -H "Authorization: Bearer $$PAJARITO_AGENT_TOKEN" "$(CONSOLE_URL)/v1/cases?status=pending&limit=1" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4); \
	test -n "$$id" || { echo "console-screenshot: no pending case at $(CONSOLE_URL) (is make dev running? replay events/ first: go run ./cmd/pajarito replay --url $(CONSOLE_URL)/webhooks/x events/)"; exit 1; }; \
	for shot in "queue:/queue/pending" "case:/case/$$id"; do \
		name=$${shot%%:*}; route=$${shot#*:}; profile=$$(mktemp -d); \
		$(CHROMIUM) --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
			--disable-component-update --disable-sync --user-data-dir=$$profile --hide-scrollbars --virtual-time-budget=8000 \
			--screenshot=$(CURDIR)/$(DIST)/console-$$name.png --window-size=1280,1000 \
			"$(CONSOLE_URL)/console/#token=$$PAJARITO_AGENT_TOKEN&go=$$route" >$$profile.log 2>&1; \
		if [ -s $(DIST)/console-$$name.png ]; then echo "wrote $(DIST)/console-$$name.png"; rm -rf $$profile $$profile.log; \
		else cat $$profile.log; rm -rf $$profile $$profile.log; echo "console-screenshot: Chromium wrote no screenshot"; exit 1; fi; \
	done

clean: ## Remove build output and local data.
	rm -rf $(DIST) .pajarito cdk.out
