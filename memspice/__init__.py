"""memspice: SPICE-coupled simulation of memristive in-memory-computing circuits."""
__version__ = "0.1.0"
