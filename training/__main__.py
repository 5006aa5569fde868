"""``python -m training``: the same command as ``python train.py``, for an installed medxai
(the wheel carries the ``training`` package and its configs, not ``train.py``)."""

import sys

from training.cli import main

if __name__ == "__main__":
    sys.argv[0] = "python -m training"  # the program name in usage and errors
    sys.exit(main())
