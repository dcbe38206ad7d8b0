"""Model families behind one protocol (see :mod:`askwell.models.base`)."""
