"""memspice: SPICE-coupled simulation of memristive in-memory-computing circuits."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("memspice")  # one source of truth: pyproject.toml
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"
