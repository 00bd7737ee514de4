import os
from pathlib import Path

import numpy as np
import pytest

from serve.settings import Settings
from serve.web.app import create_app
from support.drawings import SHIPPED_MODEL, canvas_png, mnist_sample, png_bytes, redraw, seven


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    # Corrections the tests send go to a throw-away store, never the checkout's.
    store = tmp_path_factory.mktemp("corrections") / "corrections.db"
    settings = Settings(model_path=SHIPPED_MODEL, corrections_url=f"sqlite:///{store}")
    return create_app(settings, TESTING=True)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def seven_png():
    return canvas_png(seven)


# --- the batch command's engines (test_batch_ray.py, test_batch_ray_cluster.py) ----------


@pytest.fixture(scope="module")
def mixed_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("ray") / "scans"
    (root / "sub").mkdir(parents=True)
    images, _ = mnist_sample()
    rng = np.random.default_rng(3)
    for i in range(60):
        folder = root / "sub" if i % 3 == 0 else root
        (folder / f"{i:03d}.png").write_bytes(png_bytes(redraw(images[i], rng)))
    (root / "broken.png").write_bytes(b"not an image")
    (root / "empty.jpg").write_bytes(b"")
    (root / "dangling.png").symlink_to(root / "nowhere.png")
    os.mkfifo(root / "pipe.png")
    (root / "notes.txt").write_text("skipped")
    return root


@pytest.fixture(scope="module")
def bucket(mixed_tree):
    """s3://images/scans holding the mixed tree's regular files (a bucket has no pipes or
    links); the variables point pyarrow at the local S3, as a user points it at theirs."""
    moto_server = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
        env.setenv("AWS_ACCESS_KEY_ID", "test")
        env.setenv("AWS_SECRET_ACCESS_KEY", "test")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        s3 = boto3.client("s3")
        fill_bucket(s3, mixed_tree)
        yield s3
    server.stop()


def fill_bucket(s3, tree: Path) -> None:
    """s3://images/scans: the regular files of ``tree`` (a bucket has no pipes or links)."""
    s3.create_bucket(Bucket="images")
    for path in sorted(tree.rglob("*")):
        if path.is_file() and not path.is_symlink():
            key = "scans/" + path.relative_to(tree).as_posix()
            s3.put_object(Bucket="images", Key=key, Body=path.read_bytes())


def rows_of_the_bucket(local_rows: list[str]) -> list[str]:
    """The local engine's rows of the mixed tree less those of the files a bucket cannot
    hold: what reading s3://images/scans gives."""
    not_in_a_bucket = ("scans/dangling.png", "scans/pipe.png")
    return [row for row in local_rows if not row.startswith(not_in_a_bucket)]
