# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP := survey

.PHONY: run test install translations extract-messages lint typecheck clean

$(STAMP): requirements.txt requirements-dev.txt
	@echo "Installing the Python packages into $(VENV) (the first time: 1-2 minutes)..."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

translations: install
	$(BIN)/pybabel compile --statistics -d survey/translations 2>&1 | grep -v '^compiling' || true

# Installs everything, migrates the embedded SQLite database, seeds the demo province
# when the database is empty, and serves http://$(HOST):$(PORT). QR codes and posters
# encode that same address unless SIPAS_PUBLIC_BASE_URL says otherwise.
run: install translations
	$(BIN)/flask db upgrade
	$(BIN)/flask questionnaires sync
	$(BIN)/flask demo seed --if-empty
	@echo "SIPAS is starting on http://$(HOST):$(PORT)/  (stop with Ctrl+C)"
	SIPAS_PUBLIC_BASE_URL="$${SIPAS_PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}" \
	  $(BIN)/flask run --host $(HOST) --port $(PORT)

# The whole test suite (SQLite by default; set SIPAS_TEST_DATABASE_URL for PostgreSQL),
# one worker per core (pytest-xdist; a test file stays on one worker).
PYTEST_WORKERS ?= auto
test: install translations
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Refresh the message catalogues after changing UI texts; then translate vi/messages.po.
extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	  --omit-header -o survey/translations/messages.pot survey templates
	$(BIN)/pybabel update -i survey/translations/messages.pot -d survey/translations \
	  --ignore-obsolete --width 100

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy --strict analysis questionnaires

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
