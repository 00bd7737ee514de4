"""/openapi.json is a valid OpenAPI 3 document that describes what the API really does."""

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from serve.settings import Settings
from serve.web.app import create_app
from support.drawings import SHIPPED_MODEL, canvas_png, plus_in_a_ring
from support.server import post_image


@pytest.fixture(scope="module")
def spec(app):
    return app.test_client().get("/openapi.json").get_json()


def schema(spec, name):
    # Resolve local $refs by embedding the components next to the schema.
    return {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}


def test_document_is_valid_openapi_3(spec):
    assert spec["openapi"].startswith("3.")
    validate(spec)


def test_every_route_and_method_is_documented(app, spec):
    for rule in app.url_map.iter_rules():
        # /v2/... is the Open Inference Protocol, specified by KServe, not by this API;
        # tests/serving/test_v2.py checks it with the protocol's own client.
        if rule.endpoint == "static" or rule.rule == "/" or rule.rule.startswith("/v2"):
            continue
        methods = {m.lower() for m in rule.methods} - {"head", "options"}
        assert rule.rule in spec["paths"], rule.rule
        assert methods == set(spec["paths"][rule.rule]), rule.rule


def test_a_real_prediction_matches_the_schema(client, spec, seven_png):
    body = post_image(client, seven_png).get_json()
    OAS30Validator(schema(spec, "Prediction")).validate(body)


def test_real_number_readings_match_the_schema(client, spec, seven_png):
    # A digit, and marks with no digit among them (no digit read at all).
    for data in (seven_png, canvas_png(plus_in_a_ring)):
        body = post_image(client, data, path="/predict?read=number").get_json()
        OAS30Validator(schema(spec, "NumberReading")).validate(body)


def test_real_errors_match_the_documented_statuses(client, spec):
    documented = spec["paths"]["/predict"]["post"]["responses"]
    cases = {
        400: client.post("/predict", data={}),
        405: client.get("/predict"),
        415: post_image(client, b"junk"),
        422: post_image(client, canvas_png(lambda d, ink, width: None)),
    }
    for status, response in cases.items():
        assert response.status_code == status
        assert str(status) in documented
        OAS30Validator(schema(spec, "Error")).validate(response.get_json())
    assert "413" in documented


def test_healthz_matches_the_schema(client, spec):
    OAS30Validator(schema(spec, "Health")).validate(client.get("/healthz").get_json())


def test_the_document_states_this_servers_limits_and_thresholds():
    settings = Settings(
        model_path=SHIPPED_MODEL,
        upload_timeout=3,
        max_upload_bytes=1_234_567,
        max_image_pixels=1000,
        max_photo_pixels=2000,
        not_a_digit_below=0.25,
        sure_from=0.75,
    )
    spec = create_app(settings).test_client().get("/openapi.json").get_json()
    responses = spec["paths"]["/predict"]["post"]["responses"]
    assert responses["408"]["description"] == "The body took over 3 s to arrive"
    assert responses["413"]["description"] == (
        "Body over 1,234,567 bytes, or an image over 1,000 pixels (2,000 for JPEG)"
    )
    verdict = spec["components"]["schemas"]["Prediction"]["properties"]["verdict"]
    assert "is_digit < 0.25;" in verdict["description"]
    assert "is_digit x prob >= 0.75;" in verdict["description"]
