"""Layering (issues 14, 21): core/ at the bottom; spice/ (the ngspice drivers) beside models/; then circuits/,
netlists/, solver/; then simulate / co-simulation; then systems/, analysis/; the CLI on top.  Device models,
cells and the solver never import the ngspice driver.

Imports are read with ``ast`` (every import statement, also those inside functions), relative imports
resolved to absolute module names, so a comment or a string that mentions a module does not count.
"""

import ast
from pathlib import Path

import pytest

import memspice

PACKAGE = Path(memspice.__file__).parent

#: every top-level module or package of memspice, for the "nothing above" rules
ALL = ("core", "spice", "models", "circuits", "netlists", "solver", "simulate", "cosim", "systems", "analysis")
TOP = ("cli", "reproduce", "demo", "crossbar_demo")
#: what each layer must not import (a layer may import anything below it and in itself)
FORBIDDEN = {
    "core": ALL[1:] + TOP,
    "spice": ("models", "circuits", "netlists", "solver", "simulate", "cosim", "systems", "analysis") + TOP,
    "models": ("spice", "circuits", "netlists", "solver", "simulate", "cosim", "systems", "analysis") + TOP,
    "circuits": ("spice", "netlists", "solver", "simulate", "cosim", "systems", "analysis") + TOP,
    "solver": ("spice", "netlists", "simulate", "cosim", "systems", "analysis") + TOP,
    "netlists": ("solver", "simulate", "cosim", "systems", "analysis") + TOP,
    "systems": TOP,
    "analysis": TOP,
}
SPICE_FORBIDDEN = FORBIDDEN["spice"]


def imported_modules(path: Path, package_dir: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path`` (a file inside ``package_dir``)."""
    rel = path.relative_to(package_dir.parent).with_suffix("")
    parts = list(rel.parts)
    package = parts if parts[-1] == "__init__" else parts[:-1]
    if package and package[-1] == "__init__":
        package = package[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                prefix = ".".join(base)
                if node.module:
                    out.append((node.lineno, f"{prefix}.{node.module}"))
                else:  # from .. import x: x may be a module
                    out += [(node.lineno, f"{prefix}.{a.name}") for a in node.names]
            else:
                out.append((node.lineno, node.module))
                out += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return out


def violations(folder: str, forbidden, package_dir: Path = PACKAGE) -> list[str]:
    bad = []
    for path in sorted((package_dir / folder).rglob("*.py")):
        for line, module in imported_modules(path, package_dir):
            for layer in forbidden:
                target = f"memspice.{layer}"
                if module == target or module.startswith(target + "."):
                    bad.append(f"{path.relative_to(package_dir.parent)}:{line} imports {module}")
    return sorted(set(bad))


def test_the_import_reader_resolves_relative_imports():
    probe = PACKAGE / "spice" / "raw.py"
    modules = {m for _, m in imported_modules(probe)}
    assert "memspice.core.waveforms" in modules and "memspice.spice.errors" in modules
    init = {m for _, m in imported_modules(PACKAGE / "spice" / "__init__.py")}
    assert "memspice.spice.batch" in init  # package __init__: "." is the package itself


def test_the_checker_catches_an_upward_import(tmp_path):
    fake = tmp_path / "memspice" / "spice"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("def f():\n    from ..analysis.metrics import mvm_error\n")
    found = violations("spice", SPICE_FORBIDDEN, tmp_path / "memspice")
    assert found == ["memspice/spice/bad.py:2 imports memspice.analysis.metrics"]


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_layer_imports_a_layer_above_it(layer):
    if not (PACKAGE / layer).is_dir():
        pytest.skip(f"memspice/{layer} is not in this tree")
    bad = violations(layer, FORBIDDEN[layer])
    if bad:
        pytest.fail(f"{layer}/ imports upward or sideways:\n" + "\n".join(bad))


def test_importing_a_model_or_the_solver_loads_no_ngspice_driver():
    code = (
        "import sys, memspice.models.reference, memspice.circuits.cells, memspice.solver.transient; "
        "print(sorted(m for m in sys.modules if m.startswith('memspice.spice')))"
    )
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_moved_generic_modules_live_in_core():
    from memspice.core.waveforms import Waveforms, unit_of

    assert unit_of("i(vsense0)") == "A"
    assert Waveforms.__module__ == "memspice.core.waveforms"


def test_top_level_api_is_lazy_and_complete():
    """``import memspice`` loads no subpackage; every name in ``__all__`` resolves on first use."""
    import subprocess
    import sys

    code = (
        "import sys, memspice as ms; before = sorted(m for m in sys.modules if m.startswith('memspice.')); "
        "[getattr(ms, n) for n in ms.__all__]; print(before, ms.simulate_crossbar.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] memspice.simulate"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        memspice.nope  # noqa: B018
    assert sorted(memspice.__all__) == sorted([*memspice._EXPORTS, "__version__"])
