# postometro_mm developer entry points. `make env` once, then `make quickstart` / `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: env install test quickstart clean-env

# Build (or reuse, in seconds) the cached environment, then install the plugin non-editable so
# that `mim train/test postometro_mm ...` resolve its tools and configs.
env:
	bash tools/env/build_env.sh
	$(MAKE) --no-print-directory install

install:
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation --force-reinstall .
	rm -rf build postometro_mm.egg-info
	$(PY) -c "import postometro_mm, sys; print('postometro_mm', postometro_mm.__version__, 'installed')"

test: env
	$(PY) -m pytest tests -q -p no:cacheprovider $(PYTEST_ARGS)

quickstart: env
	$(PY) tools/quickstart.py $(QUICKSTART_ARGS)

clean-env:
	rm -f $(VENV)
