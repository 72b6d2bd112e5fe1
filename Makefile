# The platform's commands.  `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := app
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test bench lint check demo-run clean fonts

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Browser libraries from npm (package.json), copied into app/static/vendor/ (never committed).
NPM ?= npm
VENDOR := app/static/vendor
VENDOR_STAMP := $(VENDOR)/.installed

$(VENDOR_STAMP): package.json
	@command -v $(NPM) >/dev/null 2>&1 || { echo 'make install: npm was not found; install Node.js 18+ with npm (e.g. apt-get install nodejs npm) and run make install again' >&2; exit 1; }
	$(NPM) install --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)/bpmn-js $(VENDOR)/bpmn-js-properties-panel $(VENDOR)/dmn-js
	cp node_modules/bpmn-js/dist/*.production.min.js $(VENDOR)/bpmn-js/
	cp -r node_modules/bpmn-js/dist/assets $(VENDOR)/bpmn-js/
	cp node_modules/bpmn-js-properties-panel/dist/bpmn-js-properties-panel.umd.js $(VENDOR)/bpmn-js-properties-panel/
	cp node_modules/@bpmn-io/properties-panel/dist/assets/properties-panel.css $(VENDOR)/bpmn-js-properties-panel/
	cp node_modules/dmn-js/dist/*.production.min.js $(VENDOR)/dmn-js/
	cp -r node_modules/dmn-js/dist/assets $(VENDOR)/dmn-js/
	mkdir -p $(VENDOR)/leaflet  # planning: plan zones and sites drawn on a blank base
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css $(VENDOR)/leaflet/
	cp -r node_modules/leaflet/dist/images $(VENDOR)/leaflet/
	# oversight: ECharts for the supervision dashboard's charts
	mkdir -p $(VENDOR)/echarts
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts/
	touch $@

# The English catalogues of the pages, compiled from their .po files (the .mo files are never committed).
CATALOGS := $(patsubst %.po,%.mo,$(wildcard app/translations/*/LC_MESSAGES/*.po))

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

# The signed result PDFs (seal) embed Debian's Noto CJK fonts; CI installs them with Chromium (.ci/run).
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc

fonts:
	@test -f $(CJK_FONT) || echo 'make install: warning: $(CJK_FONT) is missing, so no result PDF can be issued; install it with `apt-get install fonts-noto-cjk`' >&2

install: $(STAMP) $(VENDOR_STAMP) $(CATALOGS) fonts

run: install
	$(BIN)/flask init-db
	$(BIN)/flask seed-demo
	@if [ -n "$(HISTORY)" ]; then $(BIN)/flask seed-history --projects $(HISTORY); fi
	@echo "Serving on http://$(HOST):$(PORT) (scheduler running beside it); Ctrl-C stops both."
	@trap 'kill 0' INT TERM EXIT; \
	  HN_SPGL_SIMULATOR=$${HN_SPGL_SIMULATOR:-1} HN_SPGL_INTERVAL_SECONDS=$${HN_SPGL_INTERVAL_SECONDS:-30} \
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
	@if [ -n "$(HISTORY)" ]; then $(BIN)/flask seed-history --projects $(HISTORY); fi
	$(BIN)/flask demo-run

clean:
	rm -rf var .pytest_cache
