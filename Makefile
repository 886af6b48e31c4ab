# Every target sets itself up: the first run creates .venv from the pinned requirements.
SHELL := /bin/bash
PYTHON ?= python3
# One environment per interpreter: `make test PYTHON=python3.10` (or a path) builds
# .venv-python3.10 beside the default .venv.
VENV ?= $(if $(filter python3,$(PYTHON)),.venv,.venv-$(notdir $(PYTHON)))
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

IMPL ?= assignments
T ?= tests/public
JOBS ?= 2
OUT ?= results

.PHONY: help setup sandbox-tool check grade assignments release autograder test lint bench mutants figures fixtures clean

help:
	@echo "make check                       public tests on assignments/ (IMPL=solutions for the reference)"
	@echo "make check T='tests/public/...::test_x'   one test, with its traceback"
	@echo "make grade                       grade the bundled reference and skeleton (demo)"
	@echo "make grade SUBMISSION=path       grade one folder or .zip -> $(OUT)/results.json"
	@echo "make grade SUBMISSIONS=dir JOBS=n  grade every submission in dir -> $(OUT)/"
	@echo "make assignments [SCAFFOLD=concept|full]  regenerate assignments/ from solutions/"
	@echo "make release [SCAFFOLD=full]     the student release: dist/student/ and dist/student.zip"
	@echo "make autograder                  the Gradescope zip: dist/autograder.zip"
	@echo "make test                        everything the project checks (CI)"
	@echo "make bench [BENCH='--quick --only grade,numpy']  timings, CPU and peak memory -> results/bench.json"
	@echo "make mutants                     every known mistake and correct alternative graded"
	@echo "make figures                     every figure of the guide, regenerated"
	@echo "make fixtures                    the public tests' saved reference values, rebuilt"
	@echo "make otter [SUBMISSION=path]     otter-grader assignment in dist/otter/; with SUBMISSION: otter vs ours"

TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu

# torch first, the CPU build of the pinned version (the default wheel on Linux brings about
# 4.8 GB of CUDA libraries a grader does not use); where that index cannot be reached, the
# default index's build of the same version, with a note. Then the rest of the pins.
$(STAMP): requirements.txt requirements-dev.txt requirements-cluster.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --index-url $(TORCH_CPU_INDEX) \
	    "$$(grep -E '^torch==' requirements.txt)" 2>/dev/null \
	  || echo "note: the CPU build of $$(grep -E '^torch==' requirements.txt) is not available" \
	    "from $(TORCH_CPU_INDEX); installing it from the default package index (on Linux" \
	    "that is the CUDA build, about 4.8 GB; grading works with either)"
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@$(MAKE) --no-print-directory sandbox-tool
	@touch $(STAMP)

setup: $(STAMP) sandbox-tool

# bubblewrap runs graded student code in a sandbox (docs/instructors.md, "Isolation levels"). Installed
# from the distribution's packages when this runs as root; otherwise grading says which
# weaker level it uses and why. Nothing else needs it (make check does not).
sandbox-tool:
	@if command -v bwrap >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing bubblewrap (the sandbox for graded student code)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq bubblewrap >/dev/null 2>&1 \
	  || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq bubblewrap >/dev/null 2>&1; } \
	  || echo "note: could not install bubblewrap; grading will use a weaker isolation level"; \
	else echo "note: bubblewrap (bwrap) is not installed, so grading runs student code at a" \
	  "weaker isolation level; install it with: sudo apt-get install bubblewrap"; fi

check: $(STAMP)
	@IMPL=$(IMPL) $(PY) -m pytest $(T) -q -p no:cacheprovider \
	    -rN --tb=$(if $(filter tests/public,$(T)),no,short)

grade: $(STAMP)
ifdef SUBMISSIONS
	$(PY) -m autograder grade-all "$(SUBMISSIONS)" --out "$(OUT)" --jobs $(JOBS) $(if $(FRESH),--fresh) $(if $(ALLOW_SAME_USER),--allow-same-user)
else ifdef SUBMISSION
	$(PY) -m autograder grade "$(SUBMISSION)" --out "$(OUT)/results.json"
else
	@echo "Demo: grading the reference (solutions/) and the untouched skeleton (assignments/)."
	$(PY) -m autograder grade solutions --out "$(OUT)/reference/results.json"
	$(PY) -m autograder grade assignments --out "$(OUT)/skeleton/results.json"
endif

assignments: $(STAMP)
	$(PY) -m autograder assignments $(if $(SCAFFOLD),--scaffold $(SCAFFOLD))

lint: $(STAMP)
	$(PY) -m ruff check .

test: $(STAMP) lint
	$(PY) -m autograder assignments --check
	IMPL=solutions $(PY) -m pytest tests -q -p no:cacheprovider --durations=25 \
	    -n 2 --dist loadfile --no-loadscope-reorder

release: $(STAMP)
	$(PY) -m autograder release --scaffold $(or $(SCAFFOLD),concept)

autograder: $(STAMP)
	$(PY) -m autograder autograder

# The otter-grader route (docs/instructors.md, "otter-grader"): otter and a Jupyter kernel live in
# .venv-otter, apart from .venv and from anything students install.
OTTER_VENV := .venv-otter
OTTER_STAMP := $(OTTER_VENV)/.installed

$(OTTER_STAMP): requirements-otter.txt requirements.txt
	@test -x $(OTTER_VENV)/bin/python || $(PYTHON) -m venv $(OTTER_VENV)
	$(OTTER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
	    "$$(grep -E '^torch==' requirements.txt)"
	$(OTTER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
	    -r requirements-otter.txt
	@touch $(OTTER_STAMP)

.PHONY: otter otter-setup
otter-setup: $(OTTER_STAMP)

otter: $(STAMP) $(OTTER_STAMP)
	$(PY) -m tools.otter.build --otter $(OTTER_VENV)/bin/otter \
	    $(if $(SUBMISSION),--compare "$(SUBMISSION)" --out "$(OUT)/otter")

bench: $(STAMP)
	$(PY) -m tools.bench $(BENCH)

# Grades every catalogued student mistake and correct alternative through the real path
# (docs/validity.md); exits non-zero when a mistake survives or an alternative loses points.
mutants: $(STAMP)
	$(PY) -m tests.mutants $(if $(JOBS),--jobs $(JOBS))

figures: $(STAMP)
	$(PY) -m tools.figures

# The expected values public tests read (tests/public/fixtures/*.npz), saved from solutions/.
fixtures: $(STAMP)
	$(PY) -m tools.fixtures

clean:
	rm -rf $(OUT) figures dist .pytest_cache .ruff_cache
