"""The digit classifier. One function builds it, so export can rebuild the same graph.

Input: float32 (N, 28, 28, 1), MNIST polarity (white ink = 1.0 on black = 0.0), scaled to
[0, 1]. Output: (N, 10) softmax probabilities, named "probs" for the ONNX export.
"""

import keras
from keras import layers

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


def conv_block(x, filters):
    # Two 3x3 convolutions see a 5x5 field for the price of fewer weights; "valid" padding
    # skips the empty border (half the arithmetic of "same", so an epoch fits a 2-core CPU
    # in about a minute); batch norm lets a small model train fast at a high learning rate.
    for _ in range(2):
        x = layers.Conv2D(filters, 3, padding="valid", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    x = layers.MaxPooling2D()(x)
    return layers.Dropout(0.25)(x)


def build_model() -> keras.Model:
    inputs = keras.Input(shape=INPUT_SHAPE, name="input")
    x = conv_block(inputs, 32)  # 28 -> 26 -> 24 -> 12
    x = conv_block(x, 64)  # 12 -> 10 -> 8 -> 4
    x = layers.Flatten()(x)
    x = layers.Dense(128, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="mnist_cnn")
