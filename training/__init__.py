"""Training of medxai's MURA classifiers with PyTorch Lightning (``python train.py``).

:mod:`training.module` (the LightningModule), :mod:`training.datamodule` (MURA data),
:mod:`training.metrics` (DDP-exact MURA metrics) and :mod:`training.cli` (LightningCLI).
"""
