import pytest

from serve.settings import Settings
from serve.web.app import create_app
from support.drawings import SHIPPED_MODEL, canvas_png, seven


@pytest.fixture(scope="session")
def app():
    return create_app(Settings(model_path=SHIPPED_MODEL), TESTING=True)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def seven_png():
    return canvas_png(seven)
