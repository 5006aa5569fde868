"""Train a MURA abnormality classifier: ``python train.py --data.root /data/MURA-v1.1``.

See ``python train.py --help`` and :mod:`training.cli`.
"""

import sys

from training.cli import main

if __name__ == "__main__":
    sys.exit(main())
