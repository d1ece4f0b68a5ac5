"""Loss Lens's Python runner: runs a user's TensorFlow/Keras script as `python script.py` would, instrumented."""
