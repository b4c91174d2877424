"""Shi et al. 2025, memristor kinetics feature learning (DDK): calibrated device, DDK layer, network.

* :mod:`.device`: the calibrated drift-diffusion memristor (6.1-202.1 uS) and a vectorised pulse integrator;
* :mod:`.kinetics`: the DDK layer, software form with its adjoint and device form;
* :mod:`.mlp`, :mod:`.network`: numpy MLP head, imprecision-aware training, on-chip fine-tuning;
* :mod:`.data`: JapaneseVowels from aeon's bundled files;
* :mod:`.reproduce`: ``ddk-pulses`` and ``ddk-network``.
"""
