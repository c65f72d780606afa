# The two commands of the README:
#   make book   install everything into .venv and build the book into _build/html
#   make test   install, then lint, run the helpers tests, execute every notebook (nbval), build the book
#               from the outputs nbval collected (each notebook executes once), check the pages for raw
#               markup, make the Colab and student editions and execute one of them
#   make editions   the Colab and student editions in _build/colab and _build/student (book/_ext/editions.py),
#               with the outputs and glued numbers of the last build when there is one
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# jupyter-book's cache of executed notebooks (execute_notebooks: cache in _config.yml).
NB_CACHE := _build/.jupyter_cache
# No progress bars in logs and in the built pages (the notebooks show them when run interactively).
export SUPERPOSITION_PROGRESS := 0

# The chapter whose Colab edition `make test` executes (the workflow executes all of them).
EDITION_CHAPTER ?= 03_correlated_features

.PHONY: install book test lint unit notebooks build render markup editions editions-check clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

book: install build

test: install lint unit notebooks render markup editions-check

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# pytest exits 5 when it collects nothing: here that means a broken configuration, so say so and fail.
unit:
	$(BIN)/python -m pytest tests || { rc=$$?; [ $$rc -ne 5 ] || echo "pytest collected no tests in tests/"; exit $$rc; }

# Each notebook that passes is stored with its outputs in NB_CACHE, where `render` finds it.
notebooks:
	rm -rf $(NB_CACHE)
	$(BIN)/python -m pytest notebooks --nb-cache $(NB_CACHE) || { rc=$$?; [ $$rc -ne 5 ] || echo "pytest collected no notebooks in notebooks/"; exit $$rc; }

# Build with fresh execution of every notebook.
build:
	rm -rf $(NB_CACHE)
	$(MAKE) --no-print-directory render

# Build from NB_CACHE; a notebook that is not in it is executed (and added).
render:
	$(BIN)/jupyter-book build . -W --keep-going
	@echo "The book is in _build/html/index.html"

# Fail on markup a reader would see raw in the built pages ($, {glue, {cite, fences, TeX commands).
markup:
	$(BIN)/python book/_ext/raw_markup.py _build/html

editions: install
	$(BIN)/python book/_ext/editions.py --out _build --build _build

# No raw markup in either edition, and one chapter's Colab edition runs as a student would run it.
editions-check: editions
	$(BIN)/python book/_ext/raw_markup.py _build/colab _build/student
	$(BIN)/python -m pytest -p no:cacheprovider _build/colab/$(EDITION_CHAPTER).ipynb

clean:
	rm -rf _build
