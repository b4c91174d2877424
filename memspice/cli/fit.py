"""memspice fit: fit a device model's parameters to measured I-V sweeps and pulse responses (CSV).

Bounded nonlinear least squares (trust-region-reflective, several random starts) of the named parameters of
a memspice model to your measurements, with 95% confidence intervals (linearised: s^2 (J^T J)^-1 at the
solution), a residual plot and the fitted model in all three faces (params.json, behavioural .sub,
Verilog-A .va) in the output folder.  CSV files need a header row: a sweep has columns t,v,i (s, V, A; t
optional for memoryless models; the access transistor takes vg,vd,vs,i); a pulse response has
pulse,amplitude,width,g (1-based pulse number, V, s, S; optional gap, rise, v_read; an optional pulse 0 row
is the read before any pulse).  docs/fit.md has the details.
"""

import math

from ._common import COUNT, INDEX

HELP = "fit a device model's parameters to measured I-V sweeps and pulse responses (CSV)"


def configure(parser) -> None:
    from ..analysis.fit import FIT_MODELS, Residual

    parser.add_argument("model", help="the model whose parameters are fitted: " + ", ".join(FIT_MODELS))
    parser.add_argument("--sweep", nargs="+", metavar="FILE", help="I-V sweep CSV file(s)")
    parser.add_argument("--pulses", nargs="+", metavar="FILE", help="pulse-response CSV file(s)")
    parser.add_argument("--free", nargs="+", required=True, metavar="NAME", help="parameters to fit (e.g. r_on r_off)")
    parser.add_argument(
        "--set",
        nargs="+",
        metavar="NAME=VALUE",
        help="parameter values (SI): the starting value of a free parameter, the fixed value of any other",
    )
    parser.add_argument(
        "--bounds",
        nargs="+",
        metavar="NAME=LOW:HIGH",
        help="bounds of free parameters (default [0, 1] for fractions, 1e-3..1e3 times the start otherwise)",
    )
    parser.add_argument("--starts", type=COUNT, default=8, help="initial guesses: the start, then random (default 8)")
    parser.add_argument("--seed", type=INDEX, default=0, help="seed of the random starts (default 0)")
    parser.add_argument(
        "--residual",
        choices=[r.value for r in Residual],
        default=Residual.ABSOLUTE.value,
        help="absolute (default; each file over the RMS of its data) or log (currents spanning decades)",
    )
    parser.add_argument("-o", "--output", default="fit_out", help="folder for the results (default fit_out)")


def _assignments(words, flag: str) -> dict[str, str]:
    """``["name=value", ...]`` -> {name: value}; a word without '=' is an error naming ``flag``."""
    out = {}
    for word in words or ():
        name, eq, value = word.partition("=")
        if not eq or not name.strip() or not value.strip():
            raise ValueError(f"{flag} expects NAME=VALUE, got {word!r}")
        out[name.strip()] = value.strip()
    return out


def _number(flag: str, name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{flag} {name}: expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{flag} {name}: must be finite, got {text!r}")
    return value


def run(args) -> int:
    from ..analysis.fit import FIT_MODELS, fit, read_data, write_fit

    if args.model not in FIT_MODELS:
        raise ValueError(f"unknown model {args.model!r}; known: {', '.join(FIT_MODELS)}")
    if not (args.sweep or args.pulses):
        raise ValueError("give the data: --sweep FILE (I-V sweep) and/or --pulses FILE (pulse response)")
    values = {k: _number("--set", k, v) for k, v in _assignments(args.set, "--set").items()}
    bounds = {}
    for k, v in _assignments(args.bounds, "--bounds").items():
        lo, colon, hi = v.partition(":")
        if not colon:
            raise ValueError(f"--bounds {k}: expected LOW:HIGH, got {v!r}")
        bounds[k] = (_number("--bounds", k, lo), _number("--bounds", k, hi))
    data = read_data(args.sweep or (), args.pulses or (), transistor=args.model == "access_transistor")
    result = fit(args.model, data, args.free, values, bounds, args.starts, args.seed, args.residual)
    paths = write_fit(result, args.output)
    print(f"{args.model}: {result.n_points} points, {len(result.free)} parameters, {result.message}")
    for r in result.table:
        flag = " (at bound)" if r["at_bound"] else ("" if r["determined"] else " (not determined)")
        print(
            f"  {r['name']:>14s} = {r['value']:.6g} {r['unit']}  95% CI [{r['ci_low']:.4g}, {r['ci_high']:.4g}]{flag}"
        )
    for d, rel in zip(result.data, result.relative_rms()):
        print(f"  {d.name}: RMS error / RMS data = {rel:.3g}")
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0
