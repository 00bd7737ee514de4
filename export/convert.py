"""Keras model -> ONNX file with tf2onnx (named input/output, dynamic batch)."""

from __future__ import annotations

from pathlib import Path

from serve.core.contract import INPUT_NAME, INPUT_SHAPE, OUTPUT_SHAPES

OPSET = 17  # tf2onnx 1.17 goes up to 18; 17 is read by every onnxruntime of the last years


def to_onnx(model, path: Path, opset: int = OPSET):
    import onnx
    import tensorflow as tf
    import tf2onnx

    # tf2onnx looks up Keras 3 outputs by name; without this it fails with
    # KeyError: 'keras_tensor_N' (see tf2onnx issue on Keras 3 Sequential/Functional models).
    model.output_names = list(OUTPUT_SHAPES)
    signature = [tf.TensorSpec(list(INPUT_SHAPE), tf.float32, name=INPUT_NAME)]
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx_model, _ = tf2onnx.convert.from_keras(model, input_signature=signature, opset=opset)
    # tf2onnx names the free batch dimension "unk__N"; call it what it is.
    for value in (*onnx_model.graph.input, *onnx_model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    onnx.save(onnx_model, str(path))
    return onnx_model
