"""A GitOps ModelOps template: versioned data, a DVC pipeline, reports, serving and drift monitoring.

Importing this package does nothing: no files are read, no folders created, no logging configured.
"""

__version__ = "0.1.0"
