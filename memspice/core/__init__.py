"""The bottom layer: generic pieces every other layer may use, importing nothing else from memspice.

* :mod:`~memspice.core.units`: engineering notation, SI prefixes, SPICE numbers;
* :mod:`~memspice.core.choices`: :class:`~memspice.core.choices.Choice`, the base of option enums;
* :mod:`~memspice.core.faces`: :class:`~memspice.core.faces.Face` (behavioural or Verilog-A);
* :mod:`~memspice.core.waveforms`: :class:`~memspice.core.waveforms.Waveforms`, signals with units;
* :mod:`~memspice.core.files`: atomic output files;
* :mod:`~memspice.core.progress`: progress bars with the time left;
* :mod:`~memspice.core.cache`: memspice's one cache folder;
* :mod:`~memspice.core.osdi`: Verilog-A -> OSDI compilation (openvaf-r), cached by content.

The ngspice drivers (:mod:`memspice.spice`) and the device models (:mod:`memspice.models`) sit
side by side on top of this package; neither imports the other.
"""
