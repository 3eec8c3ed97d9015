"""Importing TensorFlow without its C++ start-up chatter on the user's terminal.

TensorFlow 2.21 writes absl and CUDA-probing lines to file descriptor 2 while it loads,
before TF_CPP_MIN_LOG_LEVEL is read, so they cannot be switched off from Python. The
import runs with descriptor 2 pointed at a temporary file; if the import fails, what was
written there is replayed so nothing that explains the failure is lost. Set
DLADVISOR_TF_LOGS=1 to see the lines anyway.
"""

from __future__ import annotations

import os
import sys
import tempfile

__all__ = ["import_tensorflow"]


def import_tensorflow():
    """Import and return the ``tensorflow`` module, quietly on first import."""
    if "tensorflow" in sys.modules or os.environ.get("DLADVISOR_TF_LOGS"):
        import tensorflow

        return tensorflow
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow
            import keras  # noqa: F401 - loads its own native pieces; quiet them too
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode("utf-8", errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    # Retracing notices (every trial builds a new model) are not for users either.
    tensorflow.get_logger().setLevel("ERROR")
    return tensorflow
