# Two commands on a fresh machine: `make demo` and `make test`. Both create and reuse
# .venv/ in the repo root with pip; nothing else needs installing by hand.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

# One BLAS thread everywhere: two threads collapse when anything else holds a core.
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export MPLBACKEND := Agg
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install browser sandbox postgres test demo lab formgrader hub bench bench-torch lint clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "nnlab needs Python >= 3.11; found " + sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

lint: install
	$(PY) -m ruff check .

# Debian's Chromium for tests/browser/ (Playwright never downloads a browser). Installs it
# with apt-get when root; otherwise prints why and the browser tests skip with that reason.
browser:
	@bash scripts/ensure-browser.sh

# Debian's PostgreSQL for the shared-gradebook and cluster tests (they start their own
# server in a temporary folder). Installs it with apt-get when root; fails under CI=true
# when it cannot, elsewhere prints why and those tests skip with that reason.
postgres:
	@bash scripts/ensure-postgres.sh

# Debian's bubblewrap: every grading kernel runs in its sandbox (installed with apt-get when
# root; otherwise explained, and under CI=true a failure).
sandbox:
	@bash scripts/ensure-sandbox.sh

# Three xdist workers on two cores: the suite mostly waits (kernels starting, servers,
# browsers, time limits running out); with two workers a fresh clone used 111% CPU. A
# file that grades keeps its tests on one worker (its xdist group).
test: install lint browser sandbox postgres
	$(PY) -m pytest -n 3 --dist loadgroup

# The instructor pipeline on a bundled sample class: release, grade, feedback, report.
demo: install sandbox
	$(PY) -m autograder demo

# The student versions (released into student/ by nbgrader, as on Binder), not the source
# notebooks with their solutions; an existing student/ is kept, so work there is not lost.
lab: install
	@test -f student/00_welcome.ipynb || bash scripts/student-versions.sh $(PY)
	$(VENV)/bin/jupyter lab --notebook-dir=student $(if $(filter 0,$(shell id -u)),--allow-root,)

# nbgrader's formgrader over the class graded in course/ (its nbgrader_config.py is there).
formgrader: install
	@test -f course/nbgrader_config.py || { echo "no course/ yet: run make demo or python -m autograder release first"; exit 1; }
	cd course && ../$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root,)

# A course hub on 127.0.0.1:8000 for trying: `make hub HUB_STUDENTS=alice,bob
# HUB_INSTRUCTORS=teacher [HUB_PASSWORD=...]` (existing system users; see the README).
# The course belongs to the first instructor: their formgrader runs as them, and the
# grader (run as root) hands back what it writes.
HUB_ENV ?= /var/lib/nnlab/hub-env
HUB_EXCHANGE ?= /srv/nbgrader/exchange
HUB_COURSE ?= $(CURDIR)/course
HUB_STATE ?= $(CURDIR)/.hub/state
comma := ,
HUB_OWNER = $(firstword $(subst $(comma), ,$(HUB_INSTRUCTORS)))
hub: install
	@bash scripts/ensure-hub.sh
	@test -n "$(HUB_STUDENTS)" || { echo "make hub HUB_STUDENTS=alice,bob HUB_INSTRUCTORS=teacher [HUB_PASSWORD=...]: system users who may log in"; exit 1; }
	@mkdir -p $(HUB_COURSE)
	@if [ "$$(id -u)" = 0 ] && [ -n "$(HUB_OWNER)" ]; then chown "$(HUB_OWNER):" $(HUB_COURSE); fi
	$(PY) -m autograder release --course $(HUB_COURSE) --exchange $(HUB_EXCHANGE)
	NNLAB_HUB_ENV=$(HUB_ENV) NNLAB_HUB_STATE=$(HUB_STATE) NNLAB_EXCHANGE=$(HUB_EXCHANGE) \
	NNLAB_COURSE=$(HUB_COURSE) NNLAB_STUDENTS=$(HUB_STUDENTS) NNLAB_INSTRUCTORS=$(HUB_INSTRUCTORS) \
	NNLAB_HUB_PASSWORD=$(HUB_PASSWORD) $(HUB_ENV)/bin/jupyterhub -f autograder/hub/jupyterhub_config.py

bench: install
	$(PY) -m bench

# The same, with PyTorch CPU (the optional `bench` extra, torch==2.13.0) for the
# nnlab-vs-torch column. Where pip finds no CPU wheel locally it downloads a large build.
bench-torch: install
	$(PY) -m pip install --quiet -e '.[test,bench]'
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache
