"""Layering (issue 14): spice/ is the bottom layer; models/ sits on it and beside circuits/netlists/solver.

Imports are read with ``ast`` (every import statement, also those inside functions), relative imports
resolved to absolute module names, so a comment or a string that mentions a module does not count.
"""

import ast
from pathlib import Path

import pytest

import memspice

PACKAGE = Path(memspice.__file__).parent

SPICE_FORBIDDEN = ("analysis", "solver", "netlists", "circuits", "models", "systems")
MODELS_FORBIDDEN = ("analysis", "circuits", "netlists", "solver", "systems")


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
    assert "memspice.spice.waveforms" in modules and "memspice.spice.errors" in modules
    init = {m for _, m in imported_modules(PACKAGE / "spice" / "__init__.py")}
    assert "memspice.spice.batch" in init  # package __init__: "." is the package itself


def test_the_checker_catches_an_upward_import(tmp_path):
    fake = tmp_path / "memspice" / "spice"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("def f():\n    from ..analysis.metrics import mvm_error\n")
    found = violations("spice", SPICE_FORBIDDEN, tmp_path / "memspice")
    assert found == ["memspice/spice/bad.py:2 imports memspice.analysis.metrics"]


def test_spice_imports_nothing_from_higher_layers():
    assert violations("spice", SPICE_FORBIDDEN) == []


def test_models_import_nothing_from_circuits_netlists_solver_analysis_systems():
    bad = violations("models", MODELS_FORBIDDEN)
    if bad:
        pytest.fail("models/ imports upward:\n" + "\n".join(bad))


def test_waveforms_live_in_spice_and_the_old_path_re_exports_them():
    from memspice.analysis.waveforms import Waveforms as old
    from memspice.spice.waveforms import Waveforms, unit_of

    assert old is Waveforms and unit_of("i(vsense0)") == "A"
    assert Waveforms.__module__ == "memspice.spice.waveforms"


def test_circuits_and_solver_do_not_import_upward():
    """circuits/ and solver/ sit side by side above spice/ and models/: no netlists, simulate, analysis, systems."""
    upward = ("analysis", "systems", "simulate", "reproduce", "cli")
    bad = violations("circuits", upward + ("solver", "netlists"))
    bad += violations("solver", upward + ("netlists",))
    if bad:
        pytest.fail("upward imports:\n" + "\n".join(bad))
