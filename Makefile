# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PY := .venv/bin/python
VENV_STAMP := .venv/.installed

.PHONY: run test lint bench chaos setup system services asterisk venv demo

$(VENV_STAMP): pyproject.toml
	python3 -m venv .venv
	.venv/bin/pip install -q --upgrade pip
	.venv/bin/pip install -q -e ".[dev]"
	touch $(VENV_STAMP)

venv: $(VENV_STAMP)

system:
	bin/install-system

services:
	bin/ensure-services

asterisk: system
	bin/install-asterisk

setup: system services asterisk venv

demo: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo

run: demo
	bin/run-platform

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

bench: setup
	$(PY) -m bench $(BENCH_ARGS)

# The faults of issue 10 under load (bench/chaos.py); e.g. CHAOS_ARGS="--rate 5 --hold 10 --faults freeze".
chaos: setup
	$(PY) -m bench.chaos $(CHAOS_ARGS)
