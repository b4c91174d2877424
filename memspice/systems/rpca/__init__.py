"""Online robust-PCA video foreground/background separation on a simulated self-rectifying TiOx 32 x 32 array.

Reproduces the system of Jeong et al., Nat. Electron. 8, 168-178 (2025) in
simulation: a synthetic surveillance clip with ground truth
(:mod:`.video`), the TiOx array with its periphery and non-idealities
(:mod:`.array`), the online RPCA algorithm on the array or in floating point
(:mod:`.algorithm`), the batch principal-component-pursuit reference
(:mod:`.pcp`) and the reproductions ``rpca`` and ``tiox-pulses``
(:mod:`.reproduce`).
"""
