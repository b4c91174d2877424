"""Registry of ``memspice reproduce`` names.

Each entry names ``module:function``; the function takes ``quick`` (bool: a
smaller, faster run for tests) and ``seed`` (int) and returns a
:class:`~memspice.analysis.reproduction.Reproduction`.  Its other keyword
parameters are the reproduction's options (``memspice reproduce rpca --frames
clip.npy``): :func:`options` lists them and :func:`parse_options` converts
command-line text to each parameter's annotated type.  Modules are imported
only when their reproduction runs, so ``memspice reproduce lif`` does not load
the video or speech data sets.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import typing
from pathlib import Path

from .analysis.reproduction import Reproduction

REGISTRY: dict[str, str] = {
    # device and circuit figures (memspice.analysis.reproductions; the solver's accuracy in systems.linalg)
    "hysteresis": "memspice.analysis.reproductions:reproduce_hysteresis",
    "ddk": "memspice.systems.ddk.reproduce:ddk_features",
    "lif": "memspice.analysis.reproductions:reproduce_lif",
    "mvm": "memspice.analysis.reproductions:reproduce_mvm",
    "solver": "memspice.systems.linalg.reproduce:solver_gain",
    # seed 000: TiOx array, online RPCA video separation (memspice.systems.rpca)
    "tiox-pulses": "memspice.systems.rpca.reproduce:tiox_pulses",
    "rpca": "memspice.systems.rpca.reproduce:rpca",
    "rpca-levels": "memspice.systems.rpca.reproduce:rpca_levels",
    # seed 003: drift-diffusion kinetics network (memspice.systems.ddk)
    "ddk-pulses": "memspice.systems.ddk.reproduce:ddk_pulses",
    "ddk-network": "memspice.systems.ddk.reproduce:ddk_network",
    # seed 004: spiking network (memspice.systems.snn)
    "snn": "memspice.systems.snn.reproduce:snn",
    # seed 002: analog linear algebra (memspice.systems.linalg)
    "solver-transient": "memspice.systems.linalg.reproduce:solver_transient",
    "eigen": "memspice.systems.linalg.reproduce:eigen",
    "refine": "memspice.systems.linalg.reproduce:refine",
    "adc": "memspice.systems.linalg.reproduce:adc",
}


def available() -> list[str]:
    """Names whose module is present in this installation."""
    names = []
    for name, target in REGISTRY.items():
        try:
            if importlib.util.find_spec(target.split(":")[0]) is not None:
                names.append(name)
        except ModuleNotFoundError:  # a parent package is missing
            pass
    return names


def reproduction_function(name: str):
    """The function registered under ``name``; ``KeyError`` naming the known ones otherwise."""
    if name not in REGISTRY:
        raise KeyError(f"unknown reproduction {name!r}; known: {', '.join(REGISTRY)}")
    module, func = REGISTRY[name].split(":")
    return getattr(importlib.import_module(module), func)


#: parameters every reproduction may take; they have their own command-line flags
COMMON = ("quick", "seed")


def options(name: str) -> dict[str, inspect.Parameter]:
    """The keyword options of reproduction ``name`` beyond ``quick`` and ``seed``, by parameter name."""
    params = inspect.signature(reproduction_function(name)).parameters
    return {k: p for k, p in params.items() if k not in COMMON and p.kind is not p.VAR_KEYWORD}


def _converter(param: inspect.Parameter):
    """The type to build an option's value with, from its annotation (``Path | None`` -> Path); str if none."""
    table = {"int": int, "float": float, "str": str, "Path": Path, "bool": _boolean}
    note = param.annotation
    if isinstance(note, str):  # ``from __future__ import annotations``
        names = [t.strip() for t in note.split("|")]
    else:
        names = [getattr(t, "__name__", "") for t in (typing.get_args(note) or (note,))]
    kinds = [table[n] for n in names if n in table]
    return kinds[0] if len(kinds) == 1 else str


def _boolean(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def parse_options(name: str, words: list[str]) -> dict[str, object]:
    """Command-line words ``["--frames", "clip.npy", "--truth=bg.npy"]`` -> keyword options of ``name``.

    Dashes in flag names stand for underscores.  An unknown flag, a flag without a value or a value of the
    wrong type raises ``ValueError`` naming the reproduction's options.
    """
    known = options(name)
    listing = ", ".join("--" + k.replace("_", "-") for k in known) or "none"
    out: dict[str, object] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if not word.startswith("--"):
            raise ValueError(f"reproduce {name}: unexpected argument {word!r}; options of {name}: {listing}")
        flag, eq, value = word[2:].partition("=")
        key = flag.replace("-", "_")
        if key not in known:
            raise ValueError(f"reproduce {name}: unknown option --{flag}; options of {name}: {listing}")
        if not eq:
            if i + 1 >= len(words) or words[i + 1].startswith("--"):
                raise ValueError(f"reproduce {name}: --{flag} needs a value")
            i += 1
            value = words[i]
        try:
            out[key] = _converter(known[key])(value)
        except ValueError as exc:
            raise ValueError(f"reproduce {name}: --{flag}: {exc}") from None
        i += 1
    return out


def _type_name(param: inspect.Parameter) -> str:
    """The metavar of an option: its converter's name (``PATH``, ``INT``, ``FLOAT``, ``TRUE|FALSE``, ``TEXT``)."""
    kind = _converter(param)
    return {Path: "PATH", int: "INT", float: "FLOAT", _boolean: "TRUE|FALSE"}.get(kind, "TEXT")


def option_lines(name: str) -> list[str]:
    """One line per option of ``name``: ``--flag TYPE (default VALUE)``; ``[]`` when it has none."""
    lines = []
    for key, param in options(name).items():
        default = "none" if param.default is None or param.default is param.empty else str(param.default)
        lines.append(f"--{key.replace('_', '-')} {_type_name(param)} (default {default})")
    return lines


def describe(name: str) -> str:
    """``memspice reproduce NAME --help``'s part about ``NAME``: its options and its function's docstring."""
    func = reproduction_function(name)
    lines = option_lines(name)
    head = f"options of {name}" + (":" if lines else ": none (only --quick, --seed, -o)")
    doc = inspect.cleandoc(func.__doc__ or "")
    text = "\n".join([head, *("  " + line for line in lines)])
    return text + (f"\n\n{name} ({func.__module__}.{func.__name__}):\n{doc}" if doc else "")


def reproduce(name: str, quick: bool = False, seed: int = 0, **opts) -> Reproduction:
    """Run the reproduction ``name`` with its keyword ``opts`` and return its :class:`Reproduction`."""
    func = reproduction_function(name)
    params = inspect.signature(func).parameters
    unknown = set(opts) - set(options(name))
    if unknown:
        raise ValueError(f"reproduction {name!r} has no option(s) {sorted(unknown)}; it takes {sorted(options(name))}")
    kwargs = {k: v for k, v in (("quick", quick), ("seed", seed)) if k in params}
    result = func(**kwargs, **opts)
    if not isinstance(result, Reproduction):
        raise TypeError(f"reproduction {name!r} returned {type(result).__name__}, not Reproduction")
    return result
