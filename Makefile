# The two commands of the README:
#   make book   install everything into .venv and build the book into _build/html
#   make test   install, then lint, run the helpers tests, execute every notebook (nbval), build the book
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# No progress bars in logs and in the built pages (the notebooks show them when run interactively).
export SUPERPOSITION_PROGRESS := 0

.PHONY: install book test lint unit notebooks build clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

book: install build

test: install lint unit notebooks build

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# pytest exits 5 when it collects nothing: here that means a broken configuration, so say so and fail.
unit:
	$(BIN)/python -m pytest tests || { rc=$$?; [ $$rc -ne 5 ] || echo "pytest collected no tests in tests/"; exit $$rc; }

notebooks:
	$(BIN)/python -m pytest notebooks || { rc=$$?; [ $$rc -ne 5 ] || echo "pytest collected no notebooks in notebooks/"; exit $$rc; }

build:
	$(BIN)/jupyter-book build . -W --keep-going
	@echo "The book is in _build/html/index.html"

clean:
	rm -rf _build
