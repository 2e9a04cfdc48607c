"""cplrecon: reconcile CPL submissions against ZigBee assurance certificates."""

__version__ = "0.1.0"
