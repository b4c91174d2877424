"""Readable, hierarchical ngspice netlists for whole circuits."""
from .crossbar import crossbar_netlist, spice_crossbar_outputs

__all__ = ["crossbar_netlist", "spice_crossbar_outputs"]
