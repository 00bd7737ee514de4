"""The core is framework-free: importing it, or running the batch command, loads no Flask."""

import subprocess
import sys

WEB_ONLY = ("flask", "werkzeug", "jinja2", "gevent", "prometheus_client")


def modules_loaded_by(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return {name.split(".")[0] for name in done.stdout.split()}


def test_importing_the_core_loads_no_web_framework():
    loaded = modules_loaded_by(
        "import serve.core.decode, serve.core.preprocess, "
        "serve.core.predictor, serve.core.postprocess, "
        "serve.core.contract, serve.core.read, serve.settings"
    )
    assert loaded.isdisjoint(WEB_ONLY), loaded & set(WEB_ONLY)


def test_the_batch_command_loads_no_web_framework(tmp_path):
    from PIL import Image

    Image.new("L", (28, 28)).save(tmp_path / "blank.png")
    code = (
        "import sys\nfrom serve.batch import cli\n"
        f"cli.main([{str(tmp_path)!r}, '-o', {str(tmp_path / 'out.csv')!r}, '--quiet'])"
    )
    loaded = modules_loaded_by(code)
    assert "serve" in loaded and loaded.isdisjoint(WEB_ONLY), loaded & set(WEB_ONLY)


def test_batch_help_loads_no_web_framework():
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "serve.batch", "--help"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "usage" in done.stdout
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if "|" in line
    }
    assert imported.isdisjoint(WEB_ONLY), imported & set(WEB_ONLY)
