"""Readable, hierarchical ngspice netlists for whole circuits."""

from .crossbar import crossbar_netlist, device_probes, osdi_libraries

__all__ = ["crossbar_netlist", "device_probes", "osdi_libraries"]
