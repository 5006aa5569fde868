"""Package list for setuptools; everything else is in ``pyproject.toml``.

The configs live once, in the top-level ``configs/`` folder. ``pyproject.toml`` maps it to
the package ``training.configs`` (``package-dir``) so that a wheel carries the YAML files as
``training/configs/*.yaml``, where :func:`training.cli.shipped_config_dir` finds them. A
package discovered by ``[tool.setuptools.packages.find]`` must sit in its parent's folder,
so the mapped one is added here, to the packages found.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["medxai*", "training*"]), "training.configs"])
