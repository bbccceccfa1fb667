# The README's two commands: `make run` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test install assets translations db serve test-postgres clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

assets: install
	@if [ -f package.json ]; then npm install --no-audit --no-fund --silent && npm run --silent build; fi

translations: install
	@if [ -d webforms/translations ]; then $(BIN)/pybabel -q compile -d webforms/translations; fi

db: install assets translations
	$(BIN)/desk init --demo

serve:
	$(BIN)/desk serve

# Set up everything on a fresh machine and serve the desk on http://127.0.0.1:8000 (SQLite).
run: db serve

# Set up everything and pass the whole suite.
test: install assets translations
	$(BIN)/python -m pytest -q

test-postgres: install assets translations
	DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) node_modules webforms/static/dist instance
