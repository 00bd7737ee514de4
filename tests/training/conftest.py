import os

# Keep TensorFlow quiet and reproducible on the 2-core CI machine.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
