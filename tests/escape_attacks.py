"""Netlists that try to escape ngspice: run a program or write outside the run's folder (issue 20).

Each attack is a function of an :class:`Arena` returning netlist text.  The
arena is a folder the test watches: a canary file, a folder of the
attacker's own files (where the netlist and its includes live), and the
paths an attack aims at.  An attack that works creates ``arena.marker``
(a program ran) or changes something under ``arena.root`` outside the run
folders (a file was written).  The list grows with every route found; a
list of bad words is never complete, which is why the kernel enforces.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

CIRCUIT = "V1 a 0 1\nR1 a b 1k\nR2 b 0 1k\n"


@dataclass
class Arena:
    """The watched folder of one attack: ``root`` holds everything the run must not touch."""

    root: Path
    name: str
    netlist_dir: Path = field(init=False)
    watch: Path = field(init=False)

    def __post_init__(self):
        self.netlist_dir = self.root / "attacker"
        self.watch = self.root / "watch"
        self.netlist_dir.mkdir(parents=True, exist_ok=True)
        self.watch.mkdir(parents=True, exist_ok=True)
        self.canary.write_text("canary: nothing may write here\n")

    @property
    def canary(self) -> Path:
        return self.watch / "canary.txt"

    @property
    def marker(self) -> Path:
        """Created only if a program ran."""
        return self.watch / f"ran-{self.name}"

    def file(self, name: str, text: str) -> Path:
        path = self.netlist_dir / name
        path.write_text(text)
        return path

    def snapshot(self) -> dict[str, tuple]:
        """Every entry under ``root`` except run folders: kind, size, mtime and a digest of the contents."""
        out = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not d.startswith("memspice-")]
            for name in dirnames + filenames:
                p = Path(dirpath) / name
                st = p.lstat()
                if p.is_dir() and not p.is_symlink():  # a folder's own times change with the run folders inside
                    out[str(p.relative_to(self.root))] = (st.st_mode,)
                    continue
                digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and not p.is_symlink() else ""
                out[str(p.relative_to(self.root))] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
        return out


def _control(*commands: str, circuit: str = ".op\n") -> str:
    return "escape attempt\n" + CIRCUIT + circuit + ".control\nrun\n" + "\n".join(commands) + "\n.endc\n.end\n"


def _circuit(*lines: str) -> str:
    return "escape attempt\n" + CIRCUIT + "\n".join(lines) + "\n.op\n.end\n"


def _block(*commands: str) -> str:
    """A .control block holding ``commands`` (the body of an evil include file)."""
    return ".control\n" + "\n".join(commands) + "\n.endc\n"


def _evil(a: Arena, body: str, name: str = "evil.inc") -> Path:
    """An include file of the attacker's that looks like a model file."""
    return a.file(name, "* looks like a model file\n" + body)


def _shell(a: Arena) -> str:
    return f"shell touch {a.marker}"


def _hidden_after(separator: str):
    """An include whose control block memspice's checks once saw end early: ``echo hi<separator>.endc``.

    Python ends lines at VT, FF, a lone CR, 0x1C-0x1E, NEL and U+2028/9; ngspice only at LF.  So memspice saw
    the block end, the ``shell`` line as a circuit line and ``echo x<separator>.control`` open a harmless block.
    """

    def build(a: Arena) -> str:
        body = f".control\necho hi{separator}.endc\n{_shell(a)}\necho x{separator}.control\n.endc\n"
        return _circuit(f".include {_evil(a, body)}")

    return build


def _linked_folder(a: Arena) -> str:
    """``sub/link.inc`` is a link to ``other/x.inc``, whose ``.include y.inc`` ngspice looks up in ``sub``."""
    sub, other = a.netlist_dir / "sub", a.netlist_dir / "other"
    sub.mkdir(exist_ok=True)
    other.mkdir(exist_ok=True)
    (other / "x.inc").write_text("* x\n.include y.inc\n")
    (other / "y.inc").write_text("* what memspice checked\n")
    (sub / "y.inc").write_text("* what ngspice read\n" + _block(_shell(a)))
    if not (sub / "link.inc").is_symlink():
        (sub / "link.inc").symlink_to("../other/x.inc")
    (sub / "top.inc").write_text("* top\n.include link.inc\n")
    return _circuit(f".include {sub / 'top.inc'}")


def _working_folder(a: Arena) -> str:
    """``models/a.inc`` includes ``evil_here.inc``, missing beside it: ngspice then looks in its working folder.

    In-process that is the caller's (the tests run in the attacker's folder); memspice once skipped the file
    as missing.
    """
    models = a.netlist_dir / "models"
    models.mkdir(exist_ok=True)
    (models / "a.inc").write_text("* a\n.include evil_here.inc\n")
    _evil(a, _block(_shell(a)), "evil_here.inc")
    return _circuit(".include models/a.inc")


def _nested(a: Arena) -> str:
    inner = _evil(a, _block(_shell(a)), "inner.inc")
    return _circuit(f".include {_evil(a, f'.include {inner}{chr(10)}', 'outer.inc')}")


#: name -> netlist builder; every one tries to create ``arena.marker`` or write under ``arena.root``
ATTACKS = {
    # --- running programs ---------------------------------------------------------------------------
    "shell": lambda a: _control(_shell(a)),
    "backquotes": lambda a: _control(f"echo `touch {a.marker}`"),
    "pre_shell": lambda a: _control(f"pre_shell touch {a.marker}"),
    "unixcom": lambda a: _control("set unixcom", f"touch {a.marker}"),
    "unixcom_absolute": lambda a: _control("set unixcom", f"/usr/bin/touch {a.marker}"),
    "option_unixcom": lambda a: _control("option unixcom", "rehash", f"touch {a.marker}"),
    "dot_options_unixcom": lambda a: _control(f"touch {a.marker}", circuit=".options unixcom\n.op\n"),
    "escaped_name": lambda a: _control(f"\\shell touch {a.marker}"),
    "escaped_middle": lambda a: _control(f"sh\\ell touch {a.marker}"),
    "mixed_case_tab": lambda a: _control(f"ShElL\ttouch {a.marker}"),
    "semicolon_from_variable": lambda a: _control('set x = ";"', f"echo a $x shell touch {a.marker}"),
    "command_from_foreach": lambda a: _control("foreach c shell", f"$c touch {a.marker}", "end"),
    "command_from_set": lambda a: _control("set c = shell", f"$c touch {a.marker}"),
    "alias": lambda a: _control("alias sh shell", f"sh touch {a.marker}"),
    "star_hash_line": lambda a: _circuit(f"*# shell touch {a.marker}"),
    "control_with_comment": lambda a: _circuit(".control * run it", _shell(a), ".endc"),
    "controlx_prefix": lambda a: _circuit(".controls", _shell(a), ".endc"),
    "control_without_endc": lambda a: "escape attempt\n" + CIRCUIT + f".op\n.control\n{_shell(a)}\n.end\n",
    "text_after_endc_line": lambda a: _circuit(".control", "echo ok", ".endcx", ".control", _shell(a), ".endc"),
    "include_with_control": lambda a: _circuit(f".include {_evil(a, _block(_shell(a)))}"),
    "inc_prefix_include": lambda a: _circuit(f".incfoo {_evil(a, _block(_shell(a)))}"),
    "include_with_star_hash": lambda a: _circuit(f".include {_evil(a, f'*# {_shell(a)}{chr(10)}')}"),
    "lib_section_with_control": lambda a: _circuit(
        f".lib {_evil(a, '.lib typ' + chr(10) + _block(_shell(a)) + '.endl typ' + chr(10), 'evil.lib')} typ"
    ),
    "nested_include": _nested,
    "include_path_with_space": lambda a: _circuit(f'.include "{_evil(a, _block(_shell(a)), "evil file.inc")}"'),
    "script_file_as_command": lambda a: _control(str(a.file("evil.cmd", "* run as a command\n" + _block(_shell(a))))),
    "source": lambda a: _control(f"source {a.file('evil.cmd', '* sourced' + chr(10) + _block(_shell(a)))}"),
    "ng_script_title": lambda a: f"*ng_script\n{_shell(a)}\n",
    "pyplot": lambda a: _control(f"pyplot {a.watch / 'py'} v(b)"),
    "gnuplot": lambda a: _control(f"gnuplot {a.watch / 'gp'} v(b)"),
    "hardcopy": lambda a: _control(f"hardcopy {a.watch / 'hc.ps'} v(b)"),
    "aspice": lambda a: _control(f"aspice {a.file('other.cir', 'x' + chr(10) + CIRCUIT + '.op' + chr(10))}"),
    "continuation_line": lambda a: _control("shel", f"+l touch {a.marker}"),
    "crlf_line_endings": lambda a: _control(_shell(a)).replace("\n", "\r\n"),
    "pre_prefix_upper_case": lambda a: _control(f"PRE_SHELL touch {a.marker}"),
    "after_semicolon": lambda a: _control(f"rusage all; {_shell(a)}"),
    # --- what memspice's checks and ngspice read differently (found by the red team) -------------------
    "endc_after_vertical_tab": _hidden_after("\x0b"),
    "endc_after_lone_carriage_return": _hidden_after("\r"),
    "endc_after_file_separator": _hidden_after("\x1c"),
    "endc_after_line_separator": _hidden_after("\u2028"),
    "include_after_vertical_tab": lambda a: _circuit(
        f".include {_evil(a, '.include' + chr(11) + str(_evil(a, _block(_shell(a)), 'inner.inc')) + chr(10), 'o.inc')}"
    ),
    "inc_with_punctuation": lambda a: _circuit(f".inc-x {_evil(a, _block(_shell(a)))}"),
    "include_with_star": lambda a: _circuit(f".include* {_evil(a, _block(_shell(a)))}"),
    "lib_with_punctuation": lambda a: _circuit(
        f".lib-x {_evil(a, '.lib typ' + chr(10) + _block(_shell(a)) + '.endl typ' + chr(10), 'evil.lib')} typ"
    ),
    "include_through_linked_folder": _linked_folder,
    "include_found_in_working_folder": _working_folder,
    "nul_in_include_path": lambda a: _circuit(f".include {_evil(a, _block(_shell(a)))}\x00.txt"),
    # --- writing outside the run folder --------------------------------------------------------------
    "redirect_absolute": lambda a: _control(f"echo pwned > {a.canary}"),
    "redirect_append": lambda a: _control(f"echo pwned >> {a.canary}"),
    "redirect_from_variable": lambda a: _control('set gt = ">"', f"echo pwned $gt {a.canary}"),
    "redirect_relative_parent": lambda a: _control("echo pwned > ../../watch/relative.txt"),
    "print_redirect": lambda a: _control(f"print v(b) > {a.canary}"),
    "write_absolute": lambda a: _control(f"write {a.watch / 'out.raw'}"),
    "wrdata_parent": lambda a: _control("wrdata ../../watch/wr.txt v(b)"),
    "run_rawfile": lambda a: _control(f"run {a.canary}"),
    "set_rawfile": lambda a: _control(f"set rawfile={a.watch / 'r.raw'}", "run"),
    "snsave": lambda a: _control(f"snsave {a.canary}", circuit=".tran 1u 10u\n"),
    "measoutfile": lambda a: _control(
        f"set measoutfile={a.canary}", "run", circuit=".tran 1u 10u\n.meas tran vb find v(b) at=5u\n"
    ),
    "cd_then_write": lambda a: _control(f"cd {a.watch}", "write out.raw"),
    "cd_parent_then_write": lambda a: _control("cd ..", "cd ..", "echo pwned > escaped.txt"),
    "libsave": lambda a: _circuit(
        f".lib {_evil(a, '.lib typ' + chr(10) + '.libsave' + chr(10) + '.endl typ' + chr(10), 'models.lib')} typ"
    ),
    "codemodel_load": lambda a: _control(f"codemodel {a.file('evil.cm', 'not a library')}"),
    "osdi_load": lambda a: _control(f"pre_osdi {a.file('evil.osdi', 'not a library')}"),
}
