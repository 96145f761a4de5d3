# Two commands do all the setup on a fresh machine:
#   make book   build the HTML book into _build/html (creates .venv, installs, vendors MathJax/widgets JS)
#   make test   run every test: ruff, unit and checker tests, nbval on every notebook
# Offline, point the data loaders at a local copy first: export LECTURE_CODE_DATA=../shared/data

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TORCH  := torch==2.13.0
STAMP  := $(VENV)/.installed-stamp
JOBS   ?= 2

.PHONY: book test test-portable install vendor exercises stamp execute lint benchmark wheel-check clean

book: $(STAMP) vendor
	$(BIN)/jupyter-book build . --builder html -W -n --keep-going

test: $(STAMP)
	$(BIN)/ruff check lecture_code tests scripts benchmarks conftest.py
	if [ -x $(BIN)/actionlint ] || [ "$$(uname -sm)" != "Darwin x86_64" ]; then $(BIN)/actionlint .github/workflows/*.yml; else echo "actionlint: no wheel for Intel macOS, workflows not checked"; fi
	$(BIN)/python scripts/stamp_colab.py --check
	$(BIN)/python -m lecture_code.grading generate --check
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n $(JOBS) --dist loadfile --nbval --nbval-current-env \
		--nbval-sanitize-with nbval_sanitize.cfg \
		tests chapters solutions exercises

# The chapters again under another machine's floating-point kernels (generic ATen kernels, no AVX-512 in NumPy, MKL's
# compatible mode, one thread): their verdicts must not change. .ci/run runs this besides `make test`.
test-portable: $(STAMP)
	ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR" \
		OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n $(JOBS) \
		--dist loadfile --nbval --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg -p no:cacheprovider chapters

install: $(STAMP)

# torch is pinned to the CPU build on disk here; pyproject.toml keeps a range so Colab's torch is accepted.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[test,book]"
	touch $@

# MathJax and the Jupyter widgets JavaScript, from the pinned npm packages, into _static/vendor/.
vendor: node_modules/.package-lock.json
	$(PYTHON) scripts/vendor_js.py

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund

# Maintainers: regenerate exercises/ from solutions/, restamp the Colab cells, re-execute notebooks.
exercises: $(STAMP)
	$(BIN)/python -m lecture_code.grading generate

stamp:
	$(PYTHON) scripts/stamp_colab.py

execute: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py chapters/*.ipynb solutions/*.ipynb

benchmark: $(STAMP)
	$(BIN)/python benchmarks/time_notebooks.py

clean:
	rm -rf _build _static/vendor node_modules
