"""Analog linear algebra on crossbars (Bao et al., Front. Optoelectron. 15, 23, 2022; Sun et al., PNAS 116,
4123, 2019; Le Gallo et al., Nat. Electron. 1, 246, 2018; Zidan et al., Nat. Electron. 1, 411, 2018): the
closed-loop solver's transient and stability, the eigenvector circuit, mixed-precision iterative refinement on
a simulated non-ideal array, and the ADC resolution rule.
"""

from .adc_rule import adc_bits_rule, adc_rule_study
from .analog_mvm import AnalogArray, ArrayConfig
from .closed_loop import EigenTransient, SolverTransient, eigenvector_transient, solve_with_circuit, solver_transient
from .matrices import (
    diffusion_2d,
    gaussian_source,
    graph_laplacian,
    kms_covariance,
    load_matrix,
    poisson_1d,
    poisson_2d,
    random_spd,
    sample_covariance,
)
from .refinement import (
    AnalogSolver,
    InnerMethod,
    KrylovSolve,
    RefinementResult,
    StopReason,
    flexible_gmres,
    inner_cg,
    inner_gmres,
    iterative_refinement,
)
from .stability import SolverDynamics, solver_dynamics

__all__ = [
    "AnalogSolver",
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
    "flexible_gmres",
    "inner_cg",
    "inner_gmres",
    "InnerMethod",
    "KrylovSolve",
    "RefinementResult",
    "StopReason",
    "poisson_1d",
    "poisson_2d",
    "diffusion_2d",
    "gaussian_source",
    "graph_laplacian",
    "kms_covariance",
    "random_spd",
    "sample_covariance",
    "load_matrix",
]
