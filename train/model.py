"""The digit classifier. One function builds it, so export can rebuild the same graph.

Input: float32 (N, 28, 28, 1), MNIST polarity (white ink = 1.0 on black = 0.0), scaled to
[0, 1]. Output: (N, 10) softmax probabilities, named "probs" for the ONNX export.
"""

import keras
from keras import layers

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


def conv_bn_relu(x, filters, size):
    # Batch norm lets a small model train fast at a high learning rate; the bias it would
    # cancel is left out.
    x = layers.Conv2D(filters, size, padding="valid", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def build_model() -> keras.Model:
    inputs = keras.Input(shape=INPUT_SHAPE, name="input")
    # One 5x5 convolution at full resolution, then pooling: the 28x28 stage is where
    # arithmetic is dearest, so it gets one layer and the depth goes to the 12x12 stage.
    # "valid" padding skips the empty border MNIST digits have by construction.
    x = conv_bn_relu(inputs, 32, 5)  # 28 -> 24
    x = layers.MaxPooling2D()(x)  # -> 12
    x = layers.Dropout(0.2)(x)
    x = conv_bn_relu(x, 64, 3)  # -> 10
    x = conv_bn_relu(x, 64, 3)  # -> 8
    x = layers.MaxPooling2D()(x)  # -> 4
    x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="mnist_cnn")
