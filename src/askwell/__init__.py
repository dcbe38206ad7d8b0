"""askwell: an ML-powered writing assistant for questions.

The package follows the data flow in docs/design.md:
data -> features -> models -> evaluation/explain -> serving/batch -> monitoring.
Nothing heavy is loaded at import time.
"""

__version__ = "0.1.0"
