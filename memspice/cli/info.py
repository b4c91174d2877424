"""memspice info: what the installed ngspice can do."""

HELP = "show the ngspice found here: version, KLU, Verilog-A/OSDI, shared library"


def configure(parser) -> None:
    pass


def run(args) -> int:
    from ..spice.capabilities import ngspice_info

    print(ngspice_info().summary())
    return 0
