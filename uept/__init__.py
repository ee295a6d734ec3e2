"""uept: the SSI User Entry Process Test harness."""

__version__ = "0.1.0"
