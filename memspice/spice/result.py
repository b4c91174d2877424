"""Result of one SPICE run."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.waveforms import Waveforms


@dataclass
class SimulationResult:
    """Waveforms of every plot, measurements, warnings and the provenance a validator needs.

    Attributes
    ----------
    waveforms : Waveforms
        The last plot the run made (the only one for a netlist with one analysis).
    log : str
        Everything ngspice printed.
    netlist : str
        The netlist text ngspice ran (includes made absolute, options and the
        results collector added).
    mode : str
        ``"batch"`` or ``"shared"``.
    workdir : str or None
        The run's private folder when it was kept (``keep_files=True`` or a
        ``workdir`` given), else None.
    plots : dict of str to Waveforms
        Every plot in the order ngspice made them, keyed by ngspice's plot
        names (``op1``, ``tran1``, ``ac1``, ...).  AC plots are complex.
    measurements : dict of str to float
        ``.meas`` lines' and control-block ``meas`` commands' results by
        lower-case name; a failed measurement is absent (see ``warnings``).
    warnings : list of str
        ngspice's warnings and non-fatal error lines (a failed measurement,
        a ``print`` of a missing vector), which did not stop the run.
    printed : str
        What the netlist's own ``.control`` block printed (``print``,
        ``echo``, ``meas`` ...), without ngspice's banners; empty when it
        printed nothing or has no control block.
    """

    waveforms: Waveforms
    log: str
    netlist: str
    mode: str
    workdir: str | None = None
    plots: dict[str, Waveforms] = field(default_factory=dict)
    measurements: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    printed: str = ""

    def __getitem__(self, name):
        return self.waveforms[name]

    def __repr__(self) -> str:
        """One line: mode, plots with their sizes, measurement and warning counts (never the whole log)."""
        plots = self.plots or {self.waveforms.title or "results": self.waveforms}
        shown = ", ".join(f"{name}: {len(w)} pt x {len(w.names)} signals" for name, w in list(plots.items())[:4])
        if len(plots) > 4:
            shown += f", ... ({len(plots)} plots)"
        extra = "".join(
            f"; {len(v)} {label}{'s' if len(v) != 1 else ''}"
            for label, v in (("measurement", self.measurements), ("warning", self.warnings))
            if v
        )
        return f"SimulationResult({self.mode}; {shown}{extra}; log {len(self.log.splitlines())} lines)"
