# The Sentry observability sandbox. `make` lists the targets.
# OFFLINE=1 builds on local base images made from Debian packages (no registry needed).
SHELL := /bin/bash
.DEFAULT_GOAL := help
export OFFLINE ?= 0

RELAY_CLI = docker compose exec -T relay-mock python -m relay_mock

.PHONY: help up down clean ps logs test test-unit test-sdk3 sdk-diff lint offline-images wheelhouse lock load verify-traces envelopes tail export clear chaos bench-relay bench-overhead bench-verify soak fuzz fuzz-api forwarding

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

up: ## build and start the stack, wait until healthy, print the URLs
	@scripts/up.sh

.PHONY: up-otel
up-otel: ## the stack plus catalog, an OpenTelemetry service, as downstream's next hop (CATALOG_PROPAGATION=sentry|w3c)
	@COMPOSE_PROFILES=otel DOWNSTREAM_NEXT_HOP_URL=$${DOWNSTREAM_NEXT_HOP_URL:-http://catalog:8002} scripts/up.sh

down: ## stop the stack (data volumes are kept)
	@COMPOSE_PROFILES=otel,three-hops docker compose down --remove-orphans

clean: ## stop the stack and delete its data volumes
	@COMPOSE_PROFILES=otel,three-hops docker compose down --volumes --remove-orphans

ps: ## show the services and their health
	@docker compose ps

logs: ## follow the services' logs (SERVICE=api to pick one)
	@docker compose logs -f --tail 100 $(SERVICE)

test: ## run the whole test suite (starts and tears down its own stack)
	@scripts/test.sh $(ARGS)

test-unit: ## the quick loop: no Docker, no browser, no slow tests (about a minute)
	@scripts/test-unit.sh $(ARGS)

test-sdk3: ## the services' in-process suites on sentry-python 3 (.venv3); `make test` runs them too
	@scripts/test-sdk3.sh $(ARGS)

lint: ## ruff (lint and format) over code, tests and scripts; mypy --strict over code and tests; the UI's generated types are current; tsc over the web UI
	@scripts/lint.sh

.PHONY: ui-types
ui-types: ## write relay-mock's web UI types (relay_mock/ui/api-types.d.ts) from the OpenAPI document; commit the result
	@scripts/py.sh scripts/gen_ui_types.py

load: ## headless Locust (USERS=50 RATE=10 DURATION=60s WORKERS=0); reports in reports/
	@scripts/load.sh

verify-traces: ## verify every trace: verified, unverified (a counted cause) or failed (SINCE=, UNTIL=, TRACE=, DEADLINE=30, MAX_UNVERIFIED=0, EXPECT=expectations/sandbox.yaml)
	@scripts/verify-traces.sh || { s=$$?; echo "verify-traces: exit status $$s (1 failed, 3 inconclusive or nothing to verify, 2 could not run); make itself exits 2, scripts/verify-traces.sh keeps the status" >&2; exit $$s; }

envelopes: ## the newest captured envelopes as a table (TYPE=, PROJECT=, TRACE=, LIMIT=30)
	@$(RELAY_CLI) envelopes --limit $(or $(LIMIT),30) $(if $(TYPE),--type $(TYPE)) $(if $(PROJECT),--project $(PROJECT)) $(if $(TRACE),--trace-id $(TRACE))

sentry-logs: ## the newest Sentry logs the services sent (SERVICE=, LEVEL=, TRACE=, Q=, SINCE=10m, LIMIT=50)
	@$(RELAY_CLI) logs --limit $(or $(LIMIT),50) $(if $(SERVICE),--service $(SERVICE)) $(if $(LEVEL),--level $(LEVEL)) $(if $(TRACE),--trace-id $(TRACE)) $(if $(Q),--q "$(Q)") $(if $(SINCE),--since $(SINCE))

tail: ## follow arrivals live: make tail [KIND=errors|logs|traces|metrics|all] [PROJECT=..] [SERVICE=..] [TRACE_ID=..] [FORMAT=human|json|logfmt]
	@docker compose exec relay-mock python -m relay_mock tail $(or $(KIND),all) $(if $(PROJECT),--project $(PROJECT)) $(if $(SERVICE),--service $(SERVICE)) $(if $(TRACE_ID),--trace-id $(TRACE_ID)) $(if $(FORMAT),--format $(FORMAT))

export: ## every envelope as JSON lines into reports/envelopes-<time>.jsonl
	@mkdir -p reports && f=reports/envelopes-$$(date +%Y%m%d-%H%M%S).jsonl && $(RELAY_CLI) export > $$f && echo "wrote $$f"

forwarding: ## what relay-mock forwards to a real Sentry (RELAY_FORWARD): pending, sent, rejected, expired per project
	@$(RELAY_CLI) forwarding

clear: ## delete everything relay-mock stored
	@$(RELAY_CLI) clear

chaos: ## break one part under load and report (SCENARIO=relay-down|relay-429|relay-slow|db-restart|downstream-down)
	@test -n "$(SCENARIO)" || { echo "usage: make chaos SCENARIO=relay-down|relay-429|relay-slow|db-restart|downstream-down"; exit 2; }
	@scripts/py.sh scripts/chaos.py $(SCENARIO) --json reports/chaos-$(SCENARIO).json

bench-relay: ## relay-mock ingest vs a no-op ceiling and Spotlight, load and one sender; OTLP vs envelopes (TOTAL=100000 STACK_PORT=)
	@scripts/py.sh -m bench.relay --total $(or $(TOTAL),100000) $(if $(STACK_PORT),--stack-port $(STACK_PORT)) --json reports/bench-relay.json

bench-overhead: ## what Sentry costs api: no SDK vs the SDK alone vs the SDK with this project's layer
	@scripts/py.sh -m bench.overhead --json reports/bench-overhead.json

sdk-diff: ## the same orders on sentry-python 2 and 3: what each sent per request; writes reports/sdk-diff.json and docs/upgrading-to-sentry-python-3.md (REQUESTS=50)
	@source scripts/lib.sh && ensure_venv3 && scripts/py.sh -m bench.sdk_diff --requests $(or $(REQUESTS),50)

bench-verify: ## time the trace verifier over 100,000 stored envelopes (ENVELOPES=100000)
	@scripts/py.sh -m bench.verify --envelopes $(or $(ENVELOPES),100000) --json reports/bench-verify.json

soak: ## relay-mock at a steady rate for 5 minutes; the books must balance (RATE=1800 DURATION=300; FORWARD=1 forwards to a faulty upstream, MAX_AGE=5)
	@scripts/py.sh -m bench.soak --rate $(or $(RATE),1800) --duration $(or $(DURATION),300) $(if $(FORWARD),--forward --max-age $(or $(MAX_AGE),5) --json reports/soak-forward.json,--json reports/soak.json)

fuzz: ## coverage-guided fuzzing of relay-mock's ingest (RUNS=100000)
	@scripts/fuzz.sh $(or $(RUNS),100000)

fuzz-api: ## fuzz the running services' OpenAPI schemas with schemathesis (MAX_EXAMPLES=50)
	@scripts/fuzz-api.sh

.PHONY: screenshots
screenshots: ## regenerate docs/images/*.png from the running stack: sends ten orders over 40 s and one SDK event first (make up; ONLY=trace logs ...)
	@scripts/py.sh scripts/screenshots.py $(if $(ONLY),--only $(ONLY))

offline-images: ## build local base images from Debian packages (no registry needed)
	@scripts/offline-images.sh

wheelhouse: ## download wheels for offline image builds into wheelhouse/
	@scripts/wheelhouse.sh

lock: ## re-pin requirements/*.txt from requirements/*.in (needs uv)
	@for f in service service-sdk3 catalog relay locust dev dev-sdk3; do uv pip compile -q --python-version 3.11 --python-platform x86_64-manylinux_2_28 --no-header --annotation-style line requirements/$$f.in -o requirements/$$f.txt; done
