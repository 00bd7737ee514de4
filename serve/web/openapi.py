"""The OpenAPI 3 description of the API, kept next to the code it describes (and tested)."""

from __future__ import annotations


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def openapi_document(settings, thresholds) -> dict:
    probability = {"type": "number", "minimum": 0, "maximum": 1}
    verdict_rule = (
        f"'not_a_digit' when is_digit < {thresholds.not_a_digit_below}; else 'digit' when "
        f"is_digit x prob >= {thresholds.sure_from}; else 'unsure' (which digit is in doubt, "
        "or whether it is one at all: see top3 and is_digit). The thresholds ship with "
        "the model; the settings NOT_A_DIGIT_BELOW and SURE_FROM override them."
    )
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "draw-a-digit",
            "version": "1.0.0",
            "description": "Handwritten digit recognition (MNIST CNN) served with onnxruntime.",
        },
        "paths": {
            "/predict": {
                "post": {
                    "summary": "Read the digit in an uploaded image",
                    "description": "Any image Pillow reads: a canvas PNG (transparent background), "
                    "a scan, MNIST-style white on black. The upload is cropped to "
                    "the ink, scaled into 20x20 and centred by mass in 28x28.",
                    "parameters": [
                        {
                            "name": "read",
                            "in": "query",
                            "required": False,
                            "description": "'digit' (the default): the image shows one digit, "
                            "answered as a Prediction. 'number': read every digit, left to "
                            "right, answered as a NumberReading",
                            "schema": {"type": "string", "enum": ["digit", "number"]},
                        },
                        {
                            "name": "include",
                            "in": "query",
                            "required": False,
                            "description": "extra answer fields, comma-separated: 'model_input' "
                            "adds the 28x28 image the model saw (for each digit, with "
                            "read=number)",
                            "schema": {"type": "string", "example": "model_input"},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "image": {"type": "string", "format": "binary"},
                                        "file": {
                                            "type": "string",
                                            "format": "binary",
                                            "description": "accepted in place of 'image'",
                                        },
                                    },
                                }
                            },
                            "image/*": {"schema": {"type": "string", "format": "binary"}},
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "A Prediction; with read=number, a NumberReading",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "oneOf": [
                                            {"$ref": "#/components/schemas/Prediction"},
                                            {"$ref": "#/components/schemas/NumberReading"},
                                        ]
                                    }
                                }
                            },
                        },
                        "400": _error("No image in the request, or an unknown 'read'"),
                        "405": _error("Method not allowed"),
                        "408": _error(f"The body took over {settings.upload_timeout} s to arrive"),
                        "413": _error(
                            f"Body over {settings.max_upload_bytes:,} bytes, or an "
                            f"image over {settings.max_image_pixels:,} pixels "
                            f"({settings.max_photo_pixels:,} for JPEG)"
                        ),
                        "415": _error("Not an image, or a damaged one"),
                        "422": _error("The image is blank: draw a digit first"),
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Liveness and readiness: 200 once the model is loaded",
                    "responses": {
                        "200": {
                            "description": "Model facts",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Health"}
                                }
                            },
                        }
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3 document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "responses": {
                        "200": {
                            "description": "Prometheus text format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Prediction": {
                    "type": "object",
                    "required": ["digit", "prob", "probs", "top3", "is_digit", "verdict"],
                    "properties": {
                        "digit": {
                            "type": "integer",
                            "minimum": 0,
                            "maximum": 9,
                            "description": "the likeliest digit, if the image is a digit",
                        },
                        "prob": {**probability, "description": "probs[digit]"},
                        "probs": {
                            "type": "array",
                            "items": probability,
                            "minItems": 10,
                            "maxItems": 10,
                            "description": "calibrated P(digit | the image is a digit) for "
                            "0..9, summing to 1",
                        },
                        "is_digit": {
                            **probability,
                            "description": "calibrated probability that the image shows one "
                            "digit (not a letter, a scribble, several digits...)",
                        },
                        "verdict": {
                            "type": "string",
                            "enum": ["digit", "unsure", "not_a_digit"],
                            "description": verdict_rule,
                        },
                        "top3": {
                            "type": "array",
                            "minItems": 3,
                            "maxItems": 3,
                            "items": {
                                "type": "object",
                                "required": ["digit", "prob"],
                                "properties": {"digit": {"type": "integer"}, "prob": probability},
                            },
                        },
                        "model_input": {
                            "type": "string",
                            "description": "the 28x28 model input as a PNG data URL "
                            "(with ?include=model_input)",
                        },
                        "ms": {"type": "number", "description": "server time in milliseconds"},
                    },
                },
                "NumberReading": {
                    "type": "object",
                    "required": ["number", "count", "digits"],
                    "properties": {
                        "number": {
                            "type": "string",
                            "nullable": True,
                            "pattern": "^[0-9]+$",
                            "description": "the digits read, left to right, e.g. '42'; null "
                            "when some part of the image is not a digit",
                        },
                        "count": {"type": "integer", "minimum": 1},
                        "digits": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "allOf": [
                                    {"$ref": "#/components/schemas/Prediction"},
                                    {
                                        "type": "object",
                                        "required": ["box"],
                                        "properties": {
                                            "box": {
                                                "type": "array",
                                                "items": {"type": "integer"},
                                                "minItems": 4,
                                                "maxItems": 4,
                                                "description": "[left, top, right, bottom] of "
                                                "the digit's ink in the uploaded image's "
                                                "pixels (right and bottom exclusive)",
                                            }
                                        },
                                    },
                                ]
                            },
                        },
                        "ms": {"type": "number", "description": "server time in milliseconds"},
                    },
                },
                "Health": {
                    "type": "object",
                    "required": ["status", "model"],
                    "properties": {
                        "status": {"type": "string", "enum": ["ok"]},
                        "model": {"type": "object"},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}},
                },
            }
        },
    }
