"""Sub-commands of the ``medxai`` command line, one module each (see :mod:`medxai.cli`)."""
