"""Shared set-up of the model tests: quiet TensorFlow before anything imports it."""

import os

# TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) drowns pytest's output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
