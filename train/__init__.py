"""Training side: MNIST loading, the CNN, and the training program (needs TensorFlow)."""
