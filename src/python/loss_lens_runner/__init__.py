"""Loss Lens's Python runner: runs a user's training script as `python script.py` would, with TensorFlow/Keras
instrumented (the `tf` subpackage), and sends the run's events on the private channel the host made.

Standard library only: TensorFlow and Keras are the user's, imported by the user's script, never by us first.
"""
