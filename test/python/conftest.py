import os
import sys

# run_helper.py sits beside the tests; the runner package is imported from the repository's src/python.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'src', 'python'))
