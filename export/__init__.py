"""Export side: Keras weights -> models/mnist.onnx, with proof of equality (needs TensorFlow)."""
