"""Analog linear algebra on crossbars (Bao et al., Front. Optoelectron. 15, 23, 2022; Sun et al., PNAS 116,
4123, 2019; Le Gallo et al., Nat. Electron. 1, 246, 2018; Zidan et al., Nat. Electron. 1, 411, 2018): the
closed-loop solver's transient and stability, the eigenvector circuit, mixed-precision iterative refinement on
a simulated non-ideal array, and the ADC resolution rule.
"""

from .adc_rule import adc_bits_rule, adc_rule_study
from .analog_mvm import AnalogArray, ArrayConfig
from .closed_loop import EigenTransient, SolverTransient, eigenvector_transient, solve_with_circuit, solver_transient
from .refinement import RefinementResult, inner_cg, iterative_refinement, poisson_2d
from .stability import SolverDynamics, solver_dynamics

__all__ = [
    "solve_with_circuit",
    "solver_transient",
    "SolverTransient",
    "eigenvector_transient",
    "EigenTransient",
    "solver_dynamics",
    "SolverDynamics",
    "adc_bits_rule",
    "adc_rule_study",
    "AnalogArray",
    "ArrayConfig",
    "iterative_refinement",
    "inner_cg",
    "RefinementResult",
    "poisson_2d",
]
