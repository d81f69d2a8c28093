# The Sentry observability sandbox. `make` lists the targets.
# OFFLINE=1 builds on local base images made from Debian packages (no registry needed).
SHELL := /bin/bash
.DEFAULT_GOAL := help
export OFFLINE ?= 0

.PHONY: help up down clean ps logs test offline-images wheelhouse lock

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

up: ## build and start the stack, wait until healthy, print the URLs
	@scripts/up.sh

down: ## stop the stack (data volumes are kept)
	@docker compose down --remove-orphans

clean: ## stop the stack and delete its data volumes
	@docker compose down --volumes --remove-orphans

ps: ## show the services and their health
	@docker compose ps

logs: ## follow the services' logs (SERVICE=api to pick one)
	@docker compose logs -f --tail 100 $(SERVICE)

test: ## run the whole test suite (starts and tears down its own stack)
	@scripts/test.sh $(ARGS)

offline-images: ## build local base images from Debian packages (no registry needed)
	@scripts/offline-images.sh

wheelhouse: ## download wheels for offline image builds into wheelhouse/
	@scripts/wheelhouse.sh

lock: ## re-pin requirements/*.txt from requirements/*.in (needs uv)
	@for f in service relay locust dev; do uv pip compile -q --python-version 3.11 --python-platform x86_64-manylinux_2_28 --no-header --annotation-style line requirements/$$f.in -o requirements/$$f.txt; done
