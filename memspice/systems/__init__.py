"""The source papers' applications on simulated circuits: RPCA video, DDK network, SNN, linear algebra."""
