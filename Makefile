# Two commands for a fresh machine (see README.md):
#   make serve   set everything up, run the LRS on the embedded default
#   make test    set everything up, run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup serve test lint unit conformance kafka-jars system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

serve: setup
	$(BIN)/hyperedu serve

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest -q tests

conformance: setup
	$(BIN)/pytest -q xapi-conformance --lrs-version 1.0.3
	$(BIN)/pytest -q xapi-conformance --lrs-version 2.0.0

# Debian's victoria-metrics (the metrics scrape test, vmalert dry runs); installed once.
system-deps:
	@command -v victoria-metrics >/dev/null || (apt-get update -qq && apt-get install -y -qq victoria-metrics)
	@command -v java >/dev/null && command -v mvn >/dev/null || (apt-get update -qq && apt-get install -y -qq default-jdk-headless maven)
	@test -x /usr/sbin/pgbouncer || (apt-get update -qq && apt-get install -y -qq pgbouncer)

# Kafka's broker jars come from Maven Central with the machine's Maven (Java 17+);
# the integration tests start their own broker from them on a free port.
kafka-jars: system-deps
	deploy/kafka/kafka.sh fetch

test: system-deps lint kafka-jars unit conformance

clean:
	rm -rf $(VENV) var .pytest_cache
