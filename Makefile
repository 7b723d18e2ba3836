# Two commands do everything on a fresh machine:
#   make serve   - set up, then run the engine with embedded defaults (SQLite, bundled TTS, demo dialplans)
#   make test    - set up, then run the whole test suite
#   make bench   - set up, then measure capacity against pyVoIP and write bench/results.json
.PHONY: setup serve test bench

SIP ?= 0.0.0.0:5060
HTTP ?= 127.0.0.1:8080
DB ?= sqlite:///var/ivr.db

setup:
	@./scripts/bootstrap

serve: setup
	.venv/bin/ivr serve --sip $(SIP) --http $(HTTP) --db $(DB)

bench: setup
	.venv/bin/python bench/capacity.py --out bench/results.json

test: setup
	IVR_TEST_PG=$${IVR_TEST_PG-1} .venv/bin/python -m pytest -q $(PYTEST_ARGS)
