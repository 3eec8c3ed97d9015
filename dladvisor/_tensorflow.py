"""Importing TensorFlow without its C++ start-up chatter on the user's terminal.

TensorFlow 2.21 writes absl and CUDA-probing lines to file descriptor 2 while it loads,
before TF_CPP_MIN_LOG_LEVEL is read, so they cannot be switched off from Python (and the
first look for GPUs may log a failed CUDA start the same way). The import, and that
first look, run with descriptor 2 pointed at a temporary file; if the import fails, what was
written there is replayed so nothing that explains the failure is lost. Set
DLADVISOR_TF_LOGS=1 to see the lines anyway.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile

__all__ = ["import_tensorflow", "quiet_native_logs"]


@contextlib.contextmanager
def quiet_native_logs(replay: bool = True):
    """Point file descriptor 2 at a temporary file for the block; replay what was
    written there if the block fails and ``replay`` (nothing that explains a failure is
    lost; a caller that explains the failure in its own words passes False).
    DLADVISOR_TF_LOGS=1 shows the lines anyway."""
    if os.environ.get("DLADVISOR_TF_LOGS"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            if replay:
                os.dup2(saved, 2)
                captured.seek(0)
                sys.stderr.write(captured.read().decode("utf-8", errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_tensorflow():
    """Import and return the ``tensorflow`` module, quietly on first import."""
    if "tensorflow" in sys.modules or os.environ.get("DLADVISOR_TF_LOGS"):
        import tensorflow

        return tensorflow
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with quiet_native_logs():
        import tensorflow
        import keras  # noqa: F401 - loads its own native pieces; quiet them too
    # Retracing notices (every trial builds a new model) are not for users either.
    tensorflow.get_logger().setLevel("ERROR")
    return tensorflow
