"""Readable, hierarchical ngspice netlists for whole circuits."""
from .crossbar import crossbar_netlist, osdi_libraries, spice_crossbar_outputs

__all__ = ["crossbar_netlist", "osdi_libraries", "spice_crossbar_outputs"]
