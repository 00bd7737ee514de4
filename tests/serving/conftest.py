import pytest

from serve.settings import Settings
from serve.web.app import create_app
from support.drawings import SHIPPED_MODEL, canvas_png, seven


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
