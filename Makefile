# The platform's commands.  `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := app
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test bench lint check demo-run clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/flask init-db
	$(BIN)/flask seed-demo
	@echo "Serving on http://$(HOST):$(PORT) (scheduler running beside it); Ctrl-C stops both."
	@trap 'kill 0' INT TERM EXIT; \
	  $(BIN)/flask scheduler & \
	  $(BIN)/gunicorn --workers 2 --bind $(HOST):$(PORT) --access-logfile - 'app:create_app()'

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check app engine tests bench

check: install
	$(BIN)/flask check

demo-run: install
	$(BIN)/flask init-db
	$(BIN)/flask seed-demo
	$(BIN)/flask demo-run

clean:
	rm -rf var .pytest_cache
