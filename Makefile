# The README's two commands: `make run` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test install system assets translations db serve test-postgres clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Debian packages the tests drive for real: chromium (browser tests, never a downloaded
# browser), CJK fonts for its screenshots, dovecot (the IMAP server of the mail tests).
SYSTEM_PACKAGES := chromium fonts-noto-cjk dovecot-imapd
system:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi "noto sans cjk" || missing="$$missing fonts-noto-cjk"; \
	[ -x /usr/sbin/dovecot ] || missing="$$missing dovecot-imapd"; \
	if [ -n "$$missing" ]; then \
	  echo "--- installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

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

# Set up everything and pass the whole suite; browser and mail tests fail, never skip,
# when their Debian packages are missing (DESK_REQUIRE_SYSTEM).
test: install system assets translations
	DESK_REQUIRE_SYSTEM=1 $(BIN)/python -m pytest -q

test-postgres: install system assets translations
	DESK_REQUIRE_SYSTEM=1 DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) node_modules webforms/static/dist instance
