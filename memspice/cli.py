"""Command line: ``memspice <command> --help`` explains each command."""

from __future__ import annotations

import argparse
import math
import os
import sys
import warnings
from pathlib import Path

import numpy as np

from .spice.files import write_atomic


def _number(kind, low=None, high=None, low_open=False, allow_inf=False):
    """argparse ``type=``: a number of ``kind`` within bounds; the error names the option (argparse adds it)."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'an integer' if kind is int else 'a number'}, got {text!r}"
            ) from None
        if kind is float and (math.isnan(value) or (math.isinf(value) and not allow_inf)):
            raise argparse.ArgumentTypeError(
                f"must be a {'number' if allow_inf else 'finite number'} (not NaN), got {text!r}"
            )
        if low is not None and (value <= low if low_open else value < low):
            raise argparse.ArgumentTypeError(f"must be {'>' if low_open else '>='} {low}, got {text!r}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be <= {high}, got {text!r}")
        return value

    parse.__name__ = kind.__name__
    return parse


COUNT = _number(int, 1)  # rows, columns, sizes
INDEX = _number(int, 0)  # seeds, row/column indices
FINITE = _number(float)  # voltages, currents
NONNEG = _number(float, 0.0)  # resistances (0 = ideal wire)
POSITIVE = _number(float, 0.0, low_open=True)  # conductances, times, gains
FRACTION = _number(float, 0.0, 1.0)  # stuck-at fractions
TIMEOUT = _number(float, 0.0, low_open=True, allow_inf=True)

CELL_NAMES = ("1R", "1S1R", "1T1R", "tiox", "memristor")


def CELL(text):  # noqa: N802 - an argparse type, named like the others
    """argparse ``type=``: a cell kind, case-insensitive (``1s1r``, ``TiOx``)."""
    for name in CELL_NAMES:
        if text.strip().lower() == name.lower():
            return name
    raise argparse.ArgumentTypeError(f"expected one of {', '.join(CELL_NAMES)} (any case), got {text!r}")


def _version() -> str:
    """memspice's version from the installed package's metadata (the source tree's if not installed)."""
    from . import __version__

    return __version__


#: assumed peak memory per crossbar cell while a netlist is built and written, bytes: measured 430-490 B
#: (tracemalloc, 200x200, every cell kind, Python 3.11), rounded up for the interpreter's own overhead
BYTES_PER_CELL = 600


def check_memory(what: str, cells: int, vectors: int = 1, bytes_per_cell: int = BYTES_PER_CELL) -> None:
    """Refuse (ValueError naming ``what``) work whose estimate ``cells*vectors*bytes_per_cell`` exceeds half
    the available memory, before anything is allocated."""
    from .solver.dc import available_memory

    need, avail = cells * vectors * bytes_per_cell, available_memory()
    if avail is not None and need > avail // 2:
        raise ValueError(
            f"{what}: {cells:,} cells x {vectors} vector(s) need about {need / 1e9:.3g} GB "
            f"({bytes_per_cell} B per cell), more than half of the {avail / 1e9:.3g} GB available; "
            "use a smaller array (the sparse solver handles large arrays without a netlist)"
        )


def _cmd_info(args) -> int:
    from .spice.capabilities import ngspice_info

    print(ngspice_info().summary())
    return 0


def _cmd_models(args) -> int:
    from .models import MODELS

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    for key, cls in MODELS.items():
        m = cls()
        write_atomic(out / f"{m.name}.sub", m.spice_subckt())
        write_atomic(out / f"{m.va_module}.va", m.verilog_a())
        print(f"{key:18s} -> {out / (m.name + '.sub')}, {out / (m.va_module + '.va')}")
    return 0


def _cmd_demo(args) -> int:
    from .demo import main_job

    return main_job(verbose=True)


def _cmd_validate(args) -> int:
    from .analysis.validate import validate

    summary = validate(args.output, quick=args.quick)
    for r in summary["comparisons"]:
        print(
            f"{'PASS' if r['pass'] else 'FAIL'}  {r['circuit']:38s} {r['a']:>20s} vs {r['b']:<20s} "
            f"{r['signal']:15s} {r['max_error']:.2e} (tol {r['tolerance']:.0e})"
        )
    for s in summary["skipped"]:
        print(f"SKIP  {s['circuit']:38s} {s['backend']}: {s['why']}")
    print(f"report: {Path(args.output) / 'report.md'}  overall {'PASS' if summary['pass'] else 'FAIL'}")
    return 0 if summary["pass"] else 1


def _cmd_reproduce(args) -> int:
    from .reproduce import available, parse_options, reproduce

    out = Path(args.output)
    if args.name == "all" and args.options:
        raise ValueError("options such as " + args.options[0] + " need one reproduction name, not all")
    names = available() if args.name == "all" else [args.name]
    for name in names:
        opts = parse_options(name, args.options)
        result = reproduce(name, quick=args.quick, seed=args.seed, **opts)
        paths = result.save(name, out)
        print(f"{name}: wrote " + ", ".join(str(p) for p in paths))
        for key, value in result.headline.items():
            if not isinstance(value, (dict, list)):
                print(f"  {key} = {value}")
    return 0


def _cmd_netlist(args) -> int:
    from .faces import Face
    from .netlists.builders import BUILDERS
    from .netlists.dialects import Dialect

    own = args.circuit == "crossbar" and (args.weights or args.conductances)
    for name in ("weights", "conductances", "inputs", "vector", "save"):
        if getattr(args, name) is not None and args.circuit != "crossbar":
            raise ValueError(f"--{name} applies to 'netlist crossbar' only")
    dialect = Dialect.parse(args.dialect or Dialect.NGSPICE)
    if dialect is not Dialect.NGSPICE and args.face is not None and Face.parse(args.face) is Face.VERILOG_A:
        raise ValueError(
            f"--dialect {dialect.value} --face {Face.VERILOG_A.value}: the Verilog-A face needs ngspice's OSDI "
            "loader (LTspice has no Verilog-A; Xyce needs its own ADMS-compiled plugin); use --face "
            f"{Face.BEHAVIOURAL.value}"
        )
    if args.inputs and not own:
        raise ValueError("--inputs needs --weights FILE or --conductances FILE (the array the vectors drive)")
    if own and args.signed:
        raise ValueError(
            "--signed: with --weights the weights' signs decide (any negative weight gives G+/G- column pairs)"
        )
    if own:
        _write_text(args.output, _finish_own_netlist(_netlist_from_files(args), args.save, dialect))
        return 0
    opts = {k: v for k, v in vars(args).items() if k in BUILDER_OPTIONS[args.circuit] and v is not None}
    if args.circuit in ("crossbar", "write"):
        rows, cols = opts.get("rows", 8), opts.get("cols", 8)
        check_memory(f"--rows {rows} --cols {cols}", rows * cols * (2 if opts.get("signed") else 1))
        for name, limit in (("row", rows), ("col", cols)):
            if opts.get(name) is not None and opts[name] >= limit:
                raise ValueError(f"--{name} {opts[name]} is outside the array (0..{limit - 1})")
    if args.circuit == "solver" and opts.get("size"):
        check_memory(f"--size {opts['size']}", opts["size"] ** 2)
    _write_text(args.output, BUILDERS[args.circuit](**opts))
    return 0


def _finish_own_netlist(text: str, save, dialect) -> str:
    """A netlist from your own files with ``--save`` and ``--dialect`` applied (see memspice.netlists.dialects)."""
    from .netlists.dialects import Save, add_saves, output_vectors, to_dialect

    outputs = output_vectors(text)
    rows = sum(name.startswith("v(in") for name in outputs)
    cols = sum(name.startswith("v(s") for name in outputs)
    if Save.parse(save or Save.AUTO).resolve(rows * cols) is Save.OUTPUTS:
        text = add_saves(text, outputs)
    try:
        return to_dialect(text, dialect)
    except ValueError as exc:
        raise ValueError(f"--dialect {dialect.value}: {exc}") from None


def _write_text(output, text: str) -> None:
    if output in (None, "-"):
        sys.stdout.write(text)
    else:
        write_atomic(output, text)
        print(f"wrote {output} ({len(text.splitlines())} lines)")


def _header_libraries(path: Path, text: str, trust: bool) -> list[str]:
    """Libraries named by ``* memspice-osdi:`` header lines that may be loaded.

    Loaded without asking: memspice's own compiled models (its OSDI cache),
    named by a path inside the cache or (the header format memspice writes, no folder) by
    the bare cache file name ``<module>-<digest>.osdi`` or the module name
    alone; see :func:`_cached_osdi`.  Any other library only with
    ``--trust-header-osdi``: a header line is part of the file, and a netlist
    from elsewhere must not load code.
    """
    from .netlists.builders import osdi_tags
    from .spice.errors import UnsafeNetlistError
    from .spice.osdi import is_cache_name, is_memspice_compiled

    libraries = []
    for tag in osdi_tags(text):
        if is_cache_name(tag):
            libraries.append(str(_cached_osdi(path, tag)))
            continue
        if not (trust or is_memspice_compiled(tag)):
            raise UnsafeNetlistError(
                f"{path}: the header line '* memspice-osdi: {tag}' asks to load a shared library that memspice "
                f"did not compile; load it yourself with --osdi {tag}, or pass --trust-header-osdi if you trust "
                "this netlist"
            )
        libraries.append(tag)
    return libraries


def _cached_osdi(path: Path, tag: str) -> Path:
    """The compiled library a bare header name means: found in memspice's OSDI cache, else compiled again
    from memspice's own model of that module (default parameters; only if the source digest matches a
    ``<module>-<digest>.osdi`` name)."""
    from .spice.osdi import cache_dir, cache_name, compile_veriloga, find_cached

    found = find_cached(tag)
    if found is not None:
        return found
    from .models import MODELS

    module = tag.split("-", 1)[0]
    for cls in MODELS.values():
        model = cls()
        for frozen in (False, True):
            if (model.va_frozen_module if frozen else model.va_module) != module:
                continue
            source = model.verilog_a(frozen)
            if tag.endswith(".osdi") and cache_name(source, module) != tag:
                continue
            return compile_veriloga(source, module)
    raise ValueError(
        f"{path}: the header line '* memspice-osdi: {tag}' names a memspice-compiled Verilog-A "
        f"library that is not in the OSDI cache ({cache_dir()}) and is not the current source of a "
        "memspice model; write the netlist again with 'memspice netlist ... --face veriloga' "
        "(it compiles what it needs), or load the file yourself with --osdi FILE"
    )


def _refuse_other_dialect(path: Path, text: str) -> None:
    """A netlist memspice wrote for LTspice or Xyce does not run in ngspice: say so before ngspice fails."""
    for line in text.splitlines()[:3]:
        low = line.lower()
        if low.startswith("* written for ") and "by memspice (--dialect" in low:
            simulator = line[len("* written for ") :].split(" by memspice", 1)[0]
            raise ValueError(
                f"{path} was written for {simulator} (memspice netlist --dialect); 'memspice run' uses ngspice: "
                "write the netlist again without --dialect (or --dialect ngspice), or run it in "
                f"{simulator}"
            )


def _format_value(value) -> str:
    imag = getattr(value, "imag", 0)
    if isinstance(value, complex) or imag:
        return f"{value.real: .6e}{value.imag:+.6e}j (|{abs(value):.6e}|)"
    return f"{value: .6e}"


def _cmd_run(args) -> int:
    from .spice import run
    from .spice.netlist_text import read_netlist

    path = Path(args.netlist)
    src = read_netlist(path)
    _refuse_other_dialect(path, src.text)
    libraries = list(args.osdi or ()) + _header_libraries(path, src.text, args.trust_header_osdi)
    klu = {"auto": None, "klu": True, "sparse": False}[args.solver]
    from .spice.progress import SlowSimulationWarning, slow_hint

    hint = slow_hint(src.text)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SlowSimulationWarning)  # printed above, before the run starts
        res = run(
            path,
            mode=args.mode,
            timeout=args.timeout,
            osdi=libraries,
            klu=klu,
            allow_shell=args.allow_shell,
            progress=False if args.no_progress else None,
        )
    if args.plot is not None and args.plot not in res.plots:
        raise ValueError(f"--plot {args.plot}: no such plot; this run made: {', '.join(res.plots)}")
    w = res.plots[args.plot] if args.plot else res.waveforms
    wanted = [s.lower() for s in args.signals] if args.signals else None
    if wanted:
        missing = [s for s in wanted if s not in w.signals and s != w.axis_name.lower()]
        if missing:
            raise ValueError(
                f"--signals: no signal {', '.join(missing)} in plot {w.title or 'results'}; "
                f"available: {', '.join(w.names)}"
            )
    # save first: printing can fail (a closed pipe) and must not lose the files
    if args.csv:
        w.to_csv(args.csv)
    if args.npz:
        w.to_npz(args.npz)
    if args.figure:
        _save_figure(w, wanted, args.figure)
    for line in res.warnings:
        print(f"ngspice warning: {line}", file=sys.stderr)
    print(
        f"{args.netlist}: {w.title or 'results'}; {len(w)} point(s) along {w.axis_name}, {len(w.names)} signals"
        + (f"; plots: {', '.join(res.plots)}" if len(res.plots) > 1 else "")
    )
    show = [n for n in w.names if wanted is None or n in wanted]
    for name in show[: args.max_print]:
        print(f"  {name:24s} {'final' if len(w) > 1 else 'value'} {_format_value(w[name][-1])} {w.units.get(name, '')}")
    if len(show) > args.max_print:
        print(f"  ... {len(show) - args.max_print} more (use --signals NAME ..., or --csv/--npz)")
    for name, value in res.measurements.items():
        print(f"  .meas {name:18s} {value: .6e}")
    if args.csv:
        print(f"wrote {args.csv}")
    if args.npz:
        print(f"wrote {args.npz}")
    if args.figure:
        print(f"wrote {args.figure}")
    return 0


def _save_figure(waves, signals, path) -> None:
    """``waves.plot(signals)`` saved atomically to ``path`` (format from the suffix) with a non-GUI backend."""
    import io

    if "matplotlib.pyplot" not in sys.modules:  # a command line has no window to show figures in
        import matplotlib

        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    if fmt not in ("png", "pdf", "svg", "jpg", "jpeg"):
        raise ValueError(f"--figure {path}: use a .png, .pdf, .svg or .jpg file")
    fig = waves.plot(signals)
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format=fmt, dpi=150)
    finally:
        plt.close(fig)
    write_atomic(path, buf.getvalue())


# --- own data: weights / conductances / inputs files ------------------------------------------------
ORIENTATION = (
    "Files: --weights/--conductances rows = word lines (inputs), columns = outputs; --inputs rows = "
    "input vectors, columns = word lines (V); output CSV rows = input vectors, columns = outputs. "
    "CSV (comma/semicolon/tab/space, optional header row) or .npy/.npz."
)
WEIGHT_MAPPING = (
    "Weights >= 0: G = g_min + w/max(w) (g_max - g_min). Any weight < 0: G+/G- column pairs "
    "[w0+, w0-, ...], G+ = g_min + s max(w,0), G- = g_min + s max(-w,0), s = (g_max - g_min)/max|w| "
    "S per unit weight; outputs are I+ - I- = s W^T v. tiox/memristor cells: states x = w/max|w|. "
    "g_min/g_max default 6.1 uS / 202.1 uS (Shi et al. 2025 1T1R pulsed range)."
)


def _crossbar_from_files(args):
    """(Crossbar, WeightMapping or None) from --weights or --conductances and the array options."""
    from .circuits.cells import make_cell
    from .circuits.crossbar import Crossbar
    from .circuits.datafiles import load_matrix, map_weights
    from .circuits.weights import G_MAX, G_MIN, apply_stuck_faults, apply_variation

    opt = lambda name, default=None: default if getattr(args, name, None) is None else getattr(args, name)  # noqa: E731
    cell = make_cell(opt("cell", "1R"))
    g_min, g_max = opt("g_min", G_MIN), opt("g_max", G_MAX)
    if opt("conductances"):
        if cell.data != "conductances":
            raise ValueError(f"--conductances: cell {cell.name} takes states, not conductances; use --weights")
        values, mapping = load_matrix(args.conductances, "--conductances"), None
        if np.any(values < 0):
            raise ValueError(
                f"--conductances: {args.conductances} holds negative values; conductances are >= 0 S "
                "(give signed numbers with --weights for G+/G- column pairs)"
            )
    else:
        values, mapping = map_weights(load_matrix(args.weights, "--weights"), cell.data, g_min, g_max)
    check_memory(f"--weights {values.shape[0]}x{values.shape[1]}", values.size)
    seed = opt("seed", 0)
    variation, stuck_off, stuck_on = opt("variation", 0.0), opt("stuck_off", 0.0), opt("stuck_on", 0.0)
    wires = {
        "r_word": opt("r_word", 1.0),
        "r_bit": opt("r_bit", 1.0),
        "r_source": opt("r_source", 0.0),
        "r_sense": opt("r_sense", 0.0),
    }
    if cell.data == "state":
        if variation or stuck_off or stuck_on:
            raise ValueError(f"--variation/--stuck-off/--stuck-on apply to conductance cells, not {cell.name}")
        return Crossbar(state=values, cell=cell, **wires), mapping
    if variation:
        values = apply_variation(values, variation, seed=seed + 1)
    if stuck_off or stuck_on:
        values = apply_stuck_faults(values, stuck_off, stuck_on, g_min, g_max, seed=seed + 2)
    return Crossbar(values, cell=cell, **wires), mapping


def _sense(args):
    from .circuits.periphery import IdealTIA, OpAmpTIA

    kind = args.tia or "none"
    r_f = 10e3 if args.r_f is None else args.r_f
    return {"none": None, "ideal": IdealTIA, "opamp": OpAmpTIA}[kind](r_f=r_f) if kind != "none" else None


def _vector_sweep_control(xbar, vectors, analysis: str) -> str:
    """A .control block running one operating point per input vector (plots op1, op2, ...)."""
    from .units import spice_number

    if analysis.strip().lower() != ".op":
        raise ValueError(
            f"--inputs with {len(vectors)} vectors writes one .op per vector; --analysis "
            f"{analysis!r} needs a single vector (pick one with --vector K)"
        )
    lines = [".control", "op"]
    previous = vectors[0]
    for v in vectors[1:]:
        lines += [f"alter vin{i} dc = {spice_number(x)}" for i, x in enumerate(v) if x != previous[i]]
        lines.append("op")
        previous = v
    return "\n".join(lines + [".endc"])


def _netlist_from_files(args) -> str:
    from .circuits.datafiles import load_inputs
    from .faces import Face
    from .netlists import crossbar_netlist, osdi_libraries

    xbar, mapping = _crossbar_from_files(args)
    analysis = args.analysis or ".op"
    if args.inputs:
        vectors = load_inputs(args.inputs, xbar.m)
        if args.vector is not None:
            if args.vector >= len(vectors):
                raise ValueError(f"--vector {args.vector} is outside {args.inputs} (0..{len(vectors) - 1})")
            vectors = vectors[args.vector : args.vector + 1]
    else:
        v_read = 0.2 if args.v_read is None else args.v_read
        vectors = np.random.default_rng(args.seed or 0).uniform(0, v_read, (1, xbar.m))
    if len(vectors) > 1:
        analysis = _vector_sweep_control(xbar, vectors, analysis)
    face = Face.parse(args.face) if args.face else Face.BEHAVIOURAL
    sense = _sense(args)
    source = args.weights or args.conductances
    title = f"memspice crossbar {xbar.m}x{xbar.n} {xbar.cell.name} from {Path(source).name}" + (
        f", {len(vectors)} input vectors (plots op1..op{len(vectors)})" if len(vectors) > 1 else ""
    )
    text = crossbar_netlist(xbar, vectors[0], analysis=analysis, title=title, sense=sense, face=face)
    header = [f"* {mapping.describe()}"] if mapping else ["* conductances from the file as given (S)"]
    if mapping and mapping.signed:
        header.append("* output of weight column j: i(vsense<2j>) - i(vsense<2j+1>)")
    if face is Face.VERILOG_A:
        from .netlists.builders import with_osdi
        from .spice.osdi import header_name

        # bare cache names, no home-directory path: 'memspice run' finds (or compiles) them by name
        text = with_osdi(text, [header_name(p) for p in osdi_libraries(xbar, sense=sense)])
    first, _, rest = text.partition("\n")
    return "\n".join([first, *header]) + "\n" + rest


# --- memspice read -------------------------------------------------------------------------------------
def _simulate():
    """(simulate_crossbar, choose_backend) from :mod:`memspice.simulate`, imported when a read runs."""
    from .simulate import choose_backend, simulate_crossbar

    return simulate_crossbar, choose_backend


def _dac(inputs, bits, v_max):
    """Sign-magnitude DAC: |v| quantised to 2^bits - 1 steps of v_max (V), sign kept."""
    from .circuits.periphery import dac_levels

    if v_max is None:
        v_max = float(np.max(np.abs(inputs))) or 1.0
    return np.sign(inputs) * dac_levels(np.abs(inputs) / v_max, bits, v_max), v_max


def read_outputs(xbar, inputs, backend="auto", mode="batch", timeout=600.0):
    """Column currents (p, n) A of ``xbar`` for ``inputs`` (p, m) V, the backend used and why.

    The sparse solver reads every vector at once; on ngspice every vector is one operating point of a
    single run (:func:`memspice.netlists.multi_vector.read_many_ngspice`).
    """
    simulate, choose = _simulate()
    v = np.atleast_2d(np.asarray(inputs, float))  # (p, m), vectors first like the solver API
    chosen, reason = choose(xbar, backend)
    if chosen != "ngspice":
        return simulate(xbar, v, backend="sparse").output_currents, chosen, reason
    if len(v) == 1:
        return simulate(xbar, v[0], backend="ngspice", mode=mode, timeout=timeout).output_currents, chosen, reason
    from .netlists.multi_vector import read_many_ngspice

    return read_many_ngspice(xbar, v, timeout=timeout, mode=mode), chosen, reason + "; all vectors in one ngspice run"


def _cmd_read(args) -> int:
    from .circuits.datafiles import load_inputs, outputs_csv
    from .circuits.periphery import adc_quantize

    xbar, mapping = _crossbar_from_files(args)
    inputs = load_inputs(args.inputs, xbar.m)
    check_memory(f"--inputs {inputs.shape[0]} vectors", xbar.m * xbar.n, inputs.shape[0], bytes_per_cell=400)
    applied = inputs
    if args.dac_bits:
        applied, v_max = _dac(inputs, args.dac_bits, args.v_max)
        print(f"DAC: {args.dac_bits} bits over +-{v_max:.4g} V (sign-magnitude)")
    currents, backend, reason = read_outputs(xbar, applied, args.backend, args.mode, args.timeout)
    outputs = mapping.outputs(currents) if mapping else currents
    k = outputs.shape[1]
    blocks = [(outputs, [f"i{j}" for j in range(k)], "A")]
    sense, stage, unit = _sense(args), outputs, "A"
    if sense is not None:
        stage, unit = sense.dc_output(outputs), "V"
        blocks.append((stage, [f"v_out{j}" for j in range(k)], "V"))
    if args.adc_bits:
        full = args.adc_full_scale or float(np.max(np.abs(stage))) or 1.0
        signed = bool(np.any(stage < 0))
        codes, levels = adc_quantize(stage, args.adc_bits, full, signed=signed)
        blocks += [(codes, [f"code{j}" for j in range(k)], ""), (levels, [f"adc{j}" for j in range(k)], unit)]
        print(
            f"ADC: {args.adc_bits} bits, {'signed' if signed else 'unsigned'}, full scale {full:.4g} {unit}"
            + ("" if args.adc_full_scale else " (the largest output)")
        )
    write_atomic(args.output, outputs_csv(blocks))
    print(f"{xbar.m}x{xbar.n} {xbar.cell.name} array, {len(inputs)} vector(s) -> {k} outputs on {backend} ({reason})")
    if mapping:
        print(mapping.describe())
    if xbar.cell.data == "conductances":
        ideal = xbar.ideal_outputs(applied)
        ideal = mapping.outputs(ideal) if mapping else ideal
        error = float(np.max(np.abs(outputs - ideal))) / (float(np.max(np.abs(ideal))) or 1.0)
        print(f"max |I - I_ideal| / max |I_ideal| = {error:.3e} (ideal: no wire resistance, linear cells)")
    if backend == "ngspice" and len(inputs) * xbar.m * xbar.n > 16 * 64 * 64:
        print(
            "hint: --backend sparse reads large arrays and many vectors faster than ngspice "
            "(agrees with it to about 1e-9)",
            file=sys.stderr,
        )
    print(f"wrote {args.output}")
    return 0


# --- memspice sweep ------------------------------------------------------------------------------------
def sweep_point(
    n=64, sigma=0.0, r_wire=1.0, cell="1R", v_read=0.2, sample=0, seed=0, conductances=None, inputs=None
) -> dict:
    """One sweep / Monte Carlo point: MVM error of a read against the ideal G^T v (module level: picklable).

    With ``conductances`` (m, n) S and ``inputs`` (p, m) V: the designer's own array and vectors,
    with log-normal variation ``sigma`` drawn from ``seed``; otherwise a random n x n array
    (:func:`memspice.analysis.sweeps.crossbar_mvm_point`).
    """
    if conductances is None:
        from .analysis.sweeps import crossbar_mvm_point

        return crossbar_mvm_point(n=n, sigma=sigma, r_wire=r_wire, cell=cell, v_read=v_read, seed=seed)
    from .analysis.metrics import mvm_error
    from .circuits.crossbar import Crossbar
    from .circuits.weights import apply_variation
    from .solver import solve_dc

    g = apply_variation(conductances, sigma, seed=seed) if sigma else np.asarray(conductances)
    sol = solve_dc(Crossbar(g, cell=cell, r_word=r_wire, r_bit=r_wire), np.asarray(inputs))
    ideal = np.asarray(inputs) @ np.asarray(conductances)
    err = mvm_error(sol.output_currents, ideal)
    return {
        "mvm_max_rel_error": err["max_rel"],
        "mvm_rms_rel_error": err["rms_rel"],
        "mean_output_A": float(np.mean(sol.output_currents)),
    }


def _cmd_sweep(args) -> int:
    import itertools

    from .analysis.sweeps import run_sweep

    own = {}
    grid = {"sigma": args.sigma, "r_wire": args.r_wire, "cell": args.cell, "v_read": args.v_read}
    if args.weights or args.conductances:
        if not args.inputs:
            raise ValueError("--inputs is needed with --weights/--conductances (the vectors to read)")
        from .circuits.datafiles import load_inputs

        if any(c in ("tiox", "memristor") for c in args.cell):
            raise ValueError("--cell: a sweep on your own data needs conductance cells (1R, 1S1R, 1T1R)")
        # the mapped conductances; cell, wires and variation come from the grid
        xbar, _ = _crossbar_from_files(argparse.Namespace(**{**vars(args), "cell": "1R"}))
        own = {"conductances": xbar.conductances, "inputs": load_inputs(args.inputs, xbar.m)}
        del grid["v_read"]
    else:
        grid["n"] = args.n
    keys = list(grid)
    points = [
        dict(zip(keys, combo), sample=k)
        for combo in itertools.product(*(grid[k] for k in keys))
        for k in range(args.samples)
    ]
    if own:
        points = [p | own for p in points]
    size = own["conductances"].size if own else max(args.n) ** 2
    check_memory(f"sweep of {len(points)} points", size, 1, bytes_per_cell=400)
    table = run_sweep(
        sweep_point,
        points,
        seed=args.seed,
        address=args.address,
        scheduler=args.scheduler,
        num_workers=args.workers,
        progress=_progress_wanted(),
    )
    table = table.drop(columns=[c for c in ("conductances", "inputs") if c in table.columns])
    write_atomic(args.output, table.to_csv(index=False))
    group = [k for k in keys if len(grid[k]) > 1] or keys[:1]
    summary = table.groupby(group)["mvm_max_rel_error"].agg(["mean", "std", "max", "count"])
    print(
        f"{len(points)} points ({args.samples} sample(s) per grid point), seed {args.seed}; "
        "MVM max relative error vs ideal G^T v:"
    )
    print(summary.to_string(float_format=lambda x: f"{x:.3e}"))
    print(f"wrote {args.output}")
    return 0


def _progress_wanted() -> bool:
    from .spice.progress import enabled

    return enabled(None)


#: options each netlist builder accepts (argparse destinations)
BUILDER_OPTIONS = {
    "crossbar": {
        "rows",
        "cols",
        "cell",
        "r_word",
        "r_bit",
        "r_source",
        "r_sense",
        "v_read",
        "g_min",
        "g_max",
        "seed",
        "variation",
        "stuck_off",
        "stuck_on",
        "signed",
        "tia",
        "r_f",
        "analysis",
        "face",
        "save",
        "dialect",
    },
    "lif": {"current", "t_stop", "step", "face", "dialect"},
    "solver": {"size", "seed", "gain", "dialect"},
    "write": {"rows", "cols", "cell", "row", "col", "v_write", "scheme", "r_word", "r_bit", "dialect"},
}


def _add_threads(parser) -> None:
    """``--threads N`` on a command that runs the sparse solver (:func:`memspice.solver.set_threads`)."""
    parser.add_argument(
        "--threads",
        type=COUNT,
        metavar="N",
        help="threads for the sparse solver's compiled kernels (default: all cores numba may use, or "
        "$MEMSPICE_THREADS); also passed to worker processes",
    )


def _apply_threads(count) -> None:
    """Set the solver's thread count from ``--threads`` (and for worker processes through the environment)."""
    if count is None:
        return
    from .solver import set_threads
    from .solver.threads import ENV

    try:
        set_threads(count)
    except ValueError as exc:
        raise ValueError(f"--threads {count}: {exc}") from None
    os.environ[ENV] = str(count)


def build_parser() -> argparse.ArgumentParser:
    from .faces import Face
    from .netlists.dialects import SAVE_OUTPUTS_ABOVE, Dialect, Save

    p = argparse.ArgumentParser(
        prog="memspice",
        description="SPICE-coupled simulation of memristive in-memory-computing circuits.",
        epilog="Run 'memspice demo' for the built-in example; 'memspice info' tells what ngspice can do here.",
    )
    p.add_argument("--version", action="version", version=f"memspice {_version()}")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("info", help="show the ngspice found here: version, KLU, Verilog-A/OSDI, shared library")
    s.set_defaults(func=_cmd_info)
    s = sub.add_parser(
        "demo",
        help="main job: check every device model's three faces and solve a small "
        "crossbar in ngspice and the sparse solver",
    )
    _add_threads(s)
    s.set_defaults(func=_cmd_demo)
    s = sub.add_parser("models", help="write every model's behavioural .subckt and Verilog-A module to a folder")
    s.add_argument("-o", "--output", default="models_out", help="folder to write into (default: models_out)")
    s.set_defaults(func=_cmd_models)
    s = sub.add_parser(
        "netlist",
        help="write a ready-to-run ngspice netlist of a whole circuit",
        description="Write a readable, hierarchical ngspice netlist (LTspice or Xyce with --dialect). Circuits: "
        "crossbar (MVM read with wires, drivers and TIAs), lif (threshold-switch neuron), "
        "solver (closed-loop A x = b), write (V/2 or V/3 programming bias). Values are SI units (Ohm, S, V, A, s).",
    )
    s.add_argument("circuit", choices=["crossbar", "lif", "solver", "write"])
    s.add_argument("-o", "--output", help="netlist file (default: print to the terminal)")
    s.add_argument(
        "--face",
        choices=[f.value for f in Face],
        help="device models as B-source subcircuits (default) or Verilog-A N instances; the "
        "compiled .osdi files are named by file name in '* memspice-osdi:' header lines, which 'memspice run' "
        "finds in memspice's OSDI cache (a comment in the netlist says how to load them in plain ngspice)",
    )
    s.add_argument(
        "--dialect",
        choices=[d.value for d in Dialect],
        help="simulator to write for: ngspice (default), ltspice (if() for C-style ?: conditionals, no "
        ".control blocks) or xyce (IF(), I={...} B-sources, PARAMS: on subcircuit calls, .PRINT instead of "
        ".save); behavioural face only. 'memspice run' runs ngspice netlists only",
    )
    s.add_argument(
        "--save",
        choices=[v.value for v in Save],
        help="crossbar: which vectors the simulator keeps: outputs (v(in<i>), v(s<j>), i(vsense<j>), v(out<j>) "
        f"only), all, or auto (default: outputs above {SAVE_OUTPUTS_ABOVE} cells, i.e. 64x64, to keep the raw "
        "file small)",
    )
    g = s.add_argument_group("crossbar / write")
    g.add_argument("--rows", type=COUNT, help="word lines (default 8)")
    g.add_argument("--cols", type=COUNT, help="bit lines (default 8)")
    g.add_argument(
        "--cell", type=CELL, help="cell type, any case: " + ", ".join(CELL_NAMES) + " (default 1R; write: 1S1R)"
    )
    g.add_argument("--r-word", type=NONNEG, help="word-line resistance per segment, Ohm")
    g.add_argument("--r-bit", type=NONNEG, help="bit-line resistance per segment, Ohm")
    g.add_argument("--r-source", type=NONNEG, help="driver (DAC) output resistance, Ohm")
    g.add_argument("--r-sense", type=NONNEG, help="sense resistance before each TIA, Ohm")
    g.add_argument("--v-read", type=FINITE, help="largest input voltage, V (inputs are random up to it)")
    g.add_argument("--g-min", type=POSITIVE, help="lowest cell conductance, S")
    g.add_argument("--g-max", type=POSITIVE, help="highest cell conductance, S")
    g.add_argument("--seed", type=INDEX, help="random seed for weights, inputs, variation and faults")
    g.add_argument("--variation", type=NONNEG, help="log-normal device-to-device sigma (e.g. 0.1)")
    g.add_argument("--stuck-off", type=FRACTION, help="fraction of cells stuck at g_min")
    g.add_argument("--stuck-on", type=FRACTION, help="fraction of cells stuck at g_max")
    g.add_argument("--signed", action="store_true", default=None, help="signed weights as G+/G- column pairs")
    g.add_argument("--tia", choices=["none", "ideal", "opamp"], help="column read-out (default none: 0 V sense)")
    g.add_argument("--r-f", type=POSITIVE, help="TIA feedback resistance, Ohm")
    g.add_argument("--analysis", help="analysis line (default .op)")
    g = s.add_argument_group("crossbar from your own data", ORIENTATION + " " + WEIGHT_MAPPING)
    own = g.add_mutually_exclusive_group()
    own.add_argument("--weights", metavar="FILE", help="weight matrix (word lines x outputs); signs decide G+/G- pairs")
    own.add_argument("--conductances", metavar="FILE", help="conductance matrix in S (word lines x columns), as is")
    g.add_argument(
        "--inputs",
        metavar="FILE",
        help="input vectors, V (vectors x word lines); several vectors: one .op per vector in a "
        ".control block (plots op1, op2, ...; 'memspice run --plot opK')",
    )
    g.add_argument("--vector", type=INDEX, help="use only this row of --inputs (0-based)")
    g.add_argument("--row", type=INDEX, help="write: selected row")
    g.add_argument("--col", type=INDEX, help="write: selected column")
    g.add_argument("--v-write", type=FINITE, help="write: programming voltage, V")
    g.add_argument("--scheme", choices=["V/2", "V/3"], help="write: half-select scheme")
    g = s.add_argument_group("lif")
    g.add_argument("--current", type=FINITE, help="input current, A (default 20e-6)")
    g.add_argument("--t-stop", type=POSITIVE, help="simulated time, s (default 20e-6)")
    g.add_argument("--step", type=POSITIVE, help="time step, s (default 5e-9)")
    g = s.add_argument_group("solver")
    g.add_argument("--size", type=COUNT, help="n for the n x n system (default 3)")
    g.add_argument("--gain", type=POSITIVE, help="op-amp open-loop gain (default 1e6)")
    s.set_defaults(func=_cmd_netlist)

    s = sub.add_parser(
        "run",
        help="run any ngspice netlist and print/save its waveforms and measurements",
        description="Run a netlist as 'ngspice -b' would (batch: child process and raw file; shared: libngspice): "
        "relative .include/.lib paths resolve against the netlist's folder, .control blocks and .meas "
        "work, every plot is kept. Prints each signal's final value and the measurements; saves the "
        "last plot (or --plot NAME) as CSV/NPZ. Netlists are untrusted: control commands that run "
        "programs (shell, backquotes, gnuplot ...), load libraries or write outside the run's private "
        "folder are refused unless --allow-shell; libraries load only when named with --osdi (or "
        "memspice's own compiled models named in '* memspice-osdi:' header lines).",
    )
    s.add_argument("netlist", help="netlist file with an analysis line (.op, .dc, .tran, .ac ...) or a .control block")
    s.add_argument("--mode", choices=["batch", "shared"], default="batch")
    s.add_argument(
        "--timeout",
        type=TIMEOUT,
        default=600.0,
        help="seconds before ngspice is stopped (default 600; inf for no limit)",
    )
    s.add_argument("--osdi", nargs="*", metavar="FILE", help="compiled Verilog-A (.osdi) libraries to load")
    s.add_argument(
        "--trust-header-osdi",
        action="store_true",
        help="also load any library named by '* memspice-osdi:' header lines (by default only those "
        "memspice compiled itself)",
    )
    s.add_argument(
        "--allow-shell",
        action="store_true",
        help="trust the netlist: allow control commands that run programs, load libraries or write "
        "files outside the run's folder",
    )
    s.add_argument(
        "--solver",
        choices=["auto", "klu", "sparse"],
        default="auto",
        help="linear solver: auto (KLU when available and the netlist names none), klu, or sparse "
        "(turns a netlist's .options klu off)",
    )
    s.add_argument("--plot", help="which plot to print and save (e.g. op1, tran1, ac1; default the last)")
    s.add_argument("--signals", nargs="*", help="only these signals, e.g. v(out0) i(vsense0)")
    s.add_argument("--max-print", type=INDEX, default=20, help="print at most this many signals")
    s.add_argument("--csv", help="write the plot's waveforms to this CSV file (complex: re()/im() columns)")
    s.add_argument("--npz", help="write the plot's waveforms to this NumPy .npz file")
    s.add_argument(
        "--figure",
        metavar="FILE",
        help="plot the signals (--signals, default the first 12) to a .png/.pdf/.svg in engineering "
        "units; one panel per unit",
    )
    s.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (by default shown on a terminal for transients and DC sweeps)",
    )
    s.set_defaults(func=_cmd_run)

    s = sub.add_parser(
        "read",
        help="output currents of a crossbar for many input vectors, from your own files, to CSV",
        description="DC read of a crossbar built from your weights (or conductances) for every input vector, "
        "on the sparse solver or ngspice, with optional DAC, TIA and ADC. "
        + ORIENTATION
        + " "
        + WEIGHT_MAPPING
        + " Output columns: i<j> [A] (signed weights: I+ - I- per weight column), "
        "v_out<j> [V] with --tia, code<j> and adc<j> with --adc-bits.",
    )
    own = s.add_mutually_exclusive_group(required=True)
    own.add_argument("--weights", metavar="FILE", help="weight matrix (word lines x outputs)")
    own.add_argument("--conductances", metavar="FILE", help="conductance matrix in S (word lines x columns)")
    s.add_argument("--inputs", metavar="FILE", required=True, help="input vectors, V (vectors x word lines)")
    s.add_argument("-o", "--output", default="outputs.csv", help="CSV to write (default outputs.csv)")
    s.add_argument(
        "--backend",
        choices=["auto", "sparse", "ngspice"],
        default="auto",
        help="auto: ngspice up to 64x64 cells when installed, else the sparse solver",
    )
    s.add_argument("--mode", choices=["batch", "shared"], default="batch", help="ngspice mode")
    s.add_argument("--timeout", type=TIMEOUT, default=600.0, help="seconds per ngspice run (default 600)")
    g = s.add_argument_group("array")
    g.add_argument("--cell", type=CELL, default="1R", help="cell type, any case: " + ", ".join(CELL_NAMES))
    g.add_argument("--r-word", type=NONNEG, help="word-line resistance per segment, Ohm (default 1)")
    g.add_argument("--r-bit", type=NONNEG, help="bit-line resistance per segment, Ohm (default 1)")
    g.add_argument("--r-source", type=NONNEG, help="driver (DAC) output resistance, Ohm (default 0)")
    g.add_argument("--r-sense", type=NONNEG, help="sense resistance before each TIA, Ohm (default 0)")
    g.add_argument("--g-min", type=POSITIVE, help="lowest conductance, S (default 6.1e-6)")
    g.add_argument("--g-max", type=POSITIVE, help="highest conductance, S (default 202.1e-6)")
    g.add_argument("--variation", type=NONNEG, help="log-normal device-to-device sigma")
    g.add_argument("--stuck-off", type=FRACTION, help="fraction of cells stuck at g_min")
    g.add_argument("--stuck-on", type=FRACTION, help="fraction of cells stuck at g_max")
    g.add_argument("--seed", type=INDEX, default=0, help="seed of variation and faults (default 0)")
    g = s.add_argument_group("periphery")
    g.add_argument("--dac-bits", type=_number(int, 1, 24), help="quantise |inputs| to 2^bits - 1 levels of --v-max")
    g.add_argument("--v-max", type=POSITIVE, help="DAC full scale, V (default the largest |input|)")
    g.add_argument(
        "--tia",
        choices=["none", "ideal", "opamp"],
        default="none",
        help="TIA per output: v_out = -R_f I (opamp: finite gain, small-signal DC)",
    )
    g.add_argument("--r-f", type=POSITIVE, help="TIA feedback resistance, Ohm (default 10e3)")
    g.add_argument("--adc-bits", type=_number(int, 1, 24), help="quantise the TIA output (or the current)")
    g.add_argument(
        "--adc-full-scale", type=POSITIVE, help="ADC full scale, V with --tia else A (default the largest |output|)"
    )
    _add_threads(s)
    s.set_defaults(func=_cmd_read)

    s = sub.add_parser(
        "sweep",
        help="parameter sweep / Monte Carlo of crossbar MVM error (Dask, seeded) to CSV",
        description="Every combination of the listed values, --samples seeded Monte Carlo draws each, run in "
        "parallel with Dask (local processes, or a distributed cluster with --address). Each point "
        "reads the array on the sparse solver and reports the MVM error against the ideal G^T v. "
        "Random n x n arrays by default; your own array with --weights/--conductances and --inputs "
        "(" + ORIENTATION + "). Same seed, same table.",
    )
    s.add_argument("-o", "--output", default="sweep.csv", help="CSV to write, one row per point")
    s.add_argument("--n", type=COUNT, nargs="+", default=[32], help="array sizes n (n x n; default 32)")
    s.add_argument(
        "--sigma",
        type=NONNEG,
        nargs="+",
        default=[0.0, 0.05, 0.1],
        help="log-normal variation sigmas (default 0 0.05 0.1)",
    )
    s.add_argument(
        "--r-wire",
        type=NONNEG,
        nargs="+",
        default=[1.0],
        help="word- and bit-line resistance per segment, Ohm (default 1)",
    )
    s.add_argument("--cell", type=CELL, nargs="+", default=["1R"], help="cell types (conductance cells)")
    s.add_argument("--v-read", type=POSITIVE, nargs="+", default=[0.2], help="largest random input, V")
    s.add_argument("--samples", type=COUNT, default=10, help="Monte Carlo draws per grid point (default 10)")
    s.add_argument("--seed", type=INDEX, default=0, help="master seed (default 0)")
    own = s.add_mutually_exclusive_group()
    own.add_argument("--weights", metavar="FILE", help="your weight matrix (word lines x outputs)")
    own.add_argument("--conductances", metavar="FILE", help="your conductance matrix, S")
    s.add_argument("--inputs", metavar="FILE", help="your input vectors, V (vectors x word lines)")
    s.add_argument("--g-min", type=POSITIVE, help="lowest conductance for --weights, S")
    s.add_argument("--g-max", type=POSITIVE, help="highest conductance for --weights, S")
    s.add_argument(
        "--scheduler",
        choices=["processes", "threads", "synchronous"],
        default="processes",
        help="local Dask scheduler (default processes)",
    )
    s.add_argument("--workers", type=COUNT, help="local workers (default: all cores)")
    s.add_argument("--address", help="a distributed scheduler address, e.g. tcp://host:8786")
    _add_threads(s)
    s.set_defaults(func=_cmd_sweep)

    s = sub.add_parser(
        "validate",
        help="run the same circuits on every backend and write a comparison report",
        description="Compare the Python reference, the sparse solver, ngspice (behavioural and "
        "Verilog-A/OSDI) and VACASK on the same circuits; writes report.md, report.json "
        "and plots. Exit status 1 if any comparison exceeds its tolerance.",
    )
    s.add_argument("-o", "--output", default="validation", help="folder for the report")
    s.add_argument("--quick", action="store_true", help="one device and an 8x8 crossbar only")
    _add_threads(s)
    s.set_defaults(func=_cmd_validate)

    from .reproduce import REGISTRY

    s = sub.add_parser(
        "reproduce",
        help="reproduce a source-paper figure or system (png, csv, json)",
        description="Writes NAME.png, NAME.csv where a table fits and NAME.json with the headline "
        "numbers, all computed by running the simulation. Names: " + ", ".join(REGISTRY) + ", or all. "
        "Options after the name (--frames FILE, --dataset NAME ...) are the reproduction's own; an unknown one "
        "is an error that lists them.",
    )
    s.add_argument("name", choices=[*REGISTRY, "all"])
    s.add_argument("-o", "--output", default="reproductions", help="folder for figures and tables")
    s.add_argument("--quick", action="store_true", help="a smaller, faster run (for tests and previews)")
    s.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
    _add_threads(s)
    s.set_defaults(func=_cmd_reproduce)

    _add_cosim_parser(sub)
    return p


# --- co-simulation (memspice cosim): self-contained, for an easy merge with the cli package -------------
def _cmd_cosim(args) -> int:
    from .cosim import cosimulate, monolithic_netlist, parse
    from .spice.netlist_text import read_netlist

    path = Path(args.netlist)
    if args.write_monolithic:
        src = read_netlist(path)
        design = parse(src.text, src.base_dir, str(path))
        if not design.marked:
            raise ValueError(f"{path}: no crossbar is marked for memspice (a subcircuit call of memspice_crossbar)")
        write_atomic(args.write_monolithic, monolithic_netlist(design, face=args.face))
        print(f"wrote {args.write_monolithic} ({len(design.marked)} array(s) expanded for ngspice alone)")
        return 0
    res = cosimulate(
        path,
        timeout=args.timeout,
        tol=args.tol,
        method=args.method,
        save=args.save,
        klu={"auto": None, "klu": True, "sparse": False}[args.solver],
        allow_shell=args.allow_shell,
        progress=False if args.no_progress else None,
    )
    w = res.waveforms
    wanted = [s.lower() for s in args.signals] if args.signals else None
    if wanted:
        missing = [s for s in wanted if s not in w.signals]
        if missing:
            raise ValueError(f"--signals: no signal {', '.join(missing)}; available: {', '.join(w.names)}")
    if args.csv:
        w.to_csv(args.csv)
    if args.npz:
        w.to_npz(args.npz)
    if args.states:
        import io

        buf = io.BytesIO()
        np.savez(buf, **{k.replace(".", "_"): v for k, v in res.states.items()})
        write_atomic(args.states, buf.getvalue())
    if args.figure:
        _save_figure(w, wanted, args.figure)
    for line in res.warnings:
        print(f"ngspice warning: {line}", file=sys.stderr)
    st = res.statistics
    print(
        f"{args.netlist}: {len(w)} time points, {len(w.names)} signals; {int(st['accepted'])} accepted steps, "
        f"{int(st['evaluations'])} port-device evaluations ({int(st['array_solves'])} array solves, "
        f"{int(st['array_reused'])} reused), {st['array_seconds']:.3g} s in the arrays of "
        f"{st['total_seconds']:.3g} s"
    )
    show = [n for n in w.names if wanted is None or n in wanted]
    for name in show[: args.max_print]:
        print(f"  {name:24s} final {_format_value(w[name][-1])} {w.units.get(name, '')}")
    if len(show) > args.max_print:
        print(f"  ... {len(show) - args.max_print} more (use --signals NAME ..., or --csv/--npz)")
    for name, x in res.states.items():
        print(f"  states of {name}: {x.shape[0]} x {x.shape[1]}, final in [{x.min():.4g}, {x.max():.4g}]")
    for name, value in res.measurements.items():
        print(f"  .meas {name:18s} {value: .6e}")
    for option in ("csv", "npz", "states", "figure"):
        if getattr(args, option):
            print(f"wrote {getattr(args, option)}")
    return 0


def _add_cosim_parser(sub) -> None:
    s = sub.add_parser(
        "cosim",
        help="co-simulate a netlist: periphery in ngspice, marked crossbars in memspice's array solver",
        description="Run an ngspice netlist whose crossbars are marked for memspice (a subcircuit call "
        "'X1 <m word-line ports> <n bit-line ports> memspice_crossbar weights=W.npy cell=tiox r_word=10 "
        "r_bit=10 ...'): ngspice runs everything else, memspice the arrays, coupled at the ports in one "
        "transient (Newton's method inside ngspice). Prints each signal's final value; saves every "
        "signal (periphery and array ports) as CSV/NPZ. The netlist is untrusted as in 'memspice run'. "
        "--write-monolithic writes the same design with the arrays expanded, for ngspice alone.",
    )
    s.add_argument("netlist", help="netlist file with marked crossbars and a .tran line")
    s.add_argument("--timeout", type=TIMEOUT, default=3600.0, help="seconds before the run is stopped (default 3600)")
    s.add_argument(
        "--tol",
        type=POSITIVE,
        default=1e-5,
        help="the arrays' local error per step (states, line capacitors; default %(default)s)",
    )
    s.add_argument("--method", choices=["trap", "be"], default="trap", help="the arrays' integration rule")
    s.add_argument(
        "--save",
        choices=["ports", "states", "none"],
        help="array signals to return: port currents (default), also every cell state, or none",
    )
    s.add_argument("--solver", choices=["auto", "klu", "sparse"], default="auto", help="ngspice's linear solver")
    s.add_argument(
        "--allow-shell",
        action="store_true",
        help="trust the netlist: allow control commands that run programs, load libraries or write files",
    )
    s.add_argument("--signals", nargs="*", help="only these signals, e.g. v(out0) i(x1.bl0)")
    s.add_argument("--max-print", type=INDEX, default=20, help="print at most this many signals")
    s.add_argument("--csv", help="write every signal to this CSV file")
    s.add_argument("--npz", help="write every signal to this NumPy .npz file")
    s.add_argument("--states", metavar="FILE", help="write every array's final states to this .npz file")
    s.add_argument("--figure", metavar="FILE", help="plot the signals (--signals, default the first 12)")
    s.add_argument(
        "--write-monolithic",
        metavar="FILE",
        help="do not run: write the design with every marked array expanded (for ngspice alone) to FILE",
    )
    s.add_argument(
        "--face",
        choices=["behavioural", "veriloga"],
        default="behavioural",
        help="cell models in the monolithic netlist (default behavioural B-sources)",
    )
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_cosim)


def _stdout_closed() -> int:
    """The reader of stdout went away (``memspice run ... | head``): stop quietly, as the shell's tools do."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return 141  # 128 + SIGPIPE, what a shell reports for a tool stopped by a closed pipe


def main(argv=None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if getattr(args, "command", None) == "reproduce":
        args.options = extra
    elif extra:
        parser.error("unrecognized arguments: " + " ".join(extra))
    try:
        _apply_threads(getattr(args, "threads", None))
        return args.func(args)
    except BrokenPipeError:
        return _stdout_closed()
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"memspice {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
