"""Write support/data/mnist_test_sample.npz: every 5th MNIST *test* digit (2,000 of 10,000).

The serving side has no TensorFlow and no MNIST package, so its tests read this small,
committed sample. Run once in .venv-train:  .venv-train/bin/python -m support.data.make_sample
"""

from pathlib import Path

import numpy as np

from train.data import load_mnist

if __name__ == "__main__":
    mnist = load_mnist()
    out = Path(__file__).with_name("mnist_test_sample.npz")
    np.savez_compressed(out, images=mnist.x_test[::5], labels=mnist.y_test[::5])
    print(f"wrote {out}")
