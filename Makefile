# Switchboard. `make run` serves on the embedded SQLite store; `make test` runs the whole suite.
GO       ?= go
SPECTRAL := tools/node_modules/.bin/spectral
ASYNCAPI := tools/node_modules/.bin/asyncapi

.PHONY: run build test test-pg generate verify-generate tidy-check check-files lint lint-spec bench ci

run: ## start the server on :8080 with the embedded SQLite file ./switchboard.db
	$(GO) run ./cmd/switchboard serve

build:
	$(GO) build -o bin/switchboard ./cmd/switchboard

test: ## the whole suite: SQLite always, Postgres too when it answers (REQUIRE_POSTGRES=1 makes it mandatory)
	$(GO) test -race -count=1 ./...

test-pg: ## the same suite, failing if Postgres is unreachable
	REQUIRE_POSTGRES=1 $(GO) test -race -count=1 ./...

generate: ## regenerate gen/ from openapi/
	$(GO) generate ./gen/...

verify-generate: generate ## fail if gen/ differs from what openapi/ generates
	@git diff --exit-code --stat -- gen/ || { echo "gen/ is out of date: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain gen/)" || { git status --porcelain gen/; echo "untracked files in gen/"; exit 1; }

tidy-check:
	$(GO) mod tidy -diff

check-files: ## no executable binaries or files over 5 MB tracked by git
	.ci/check-tracked-files

lint: ## go vet + staticcheck + gofmt on hand-written code
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); test -z "$$out" || { echo "gofmt needed: $$out"; exit 1; }

tools/node_modules: tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	@touch tools/node_modules

lint-spec: tools/node_modules ## Spectral (spectral:oas) on every OpenAPI file, asyncapi validate on every AsyncAPI file
	$(SPECTRAL) lint --fail-severity=warn --ruleset .spectral.yaml openapi/*.yaml
	@$(ASYNCAPI) config analytics --disable >/dev/null 2>&1 || true
	@for f in openapi/asyncapi/*.yaml; do echo "asyncapi validate $$f"; SUPPRESS_NO_CONFIG_WARNING=1 $(ASYNCAPI) validate $$f --fail-severity=error || exit 1; done

bench: ## benchmarks, each figure beside a baseline measured in the same run
	$(GO) run ./tools/bench

ci: check-files lint-spec verify-generate tidy-check lint test-pg
