"""Just enough of the ELF format to tell what a file is: program or library, its loader, its exported names.

Used to check that a file given as a compiled Verilog-A library (``--osdi``)
really is a shared library that exports OSDI descriptors, and to find the
program loader (``PT_INTERP``) the kernel sandbox must let ngspice start
with.  Reads headers only (the System V ABI's ELF layout, 32 and 64 bit,
either byte order); nothing is executed or mapped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"\x7fELF"
ET_EXEC, ET_DYN = 2, 3
PT_INTERP = 3
SHT_DYNSYM = 11


class NotElf(ValueError):
    """The file is not an ELF object (or is cut short)."""


@dataclass(frozen=True)
class ElfHeader:
    """The fields of an ELF file header memspice looks at."""

    bits: int
    endian: str
    type: int
    phoff: int
    shoff: int
    phentsize: int
    phnum: int
    shentsize: int
    shnum: int

    @property
    def is_shared_object(self) -> bool:
        return self.type == ET_DYN


def read_header(data: bytes) -> ElfHeader:
    """Parse the ELF header at the start of ``data``; :class:`NotElf` when it is not one."""
    if len(data) < 52 or data[:4] != MAGIC:
        raise NotElf("not an ELF file (no \\x7fELF signature)")
    bits = {1: 32, 2: 64}.get(data[4])
    endian = {1: "<", 2: ">"}.get(data[5])
    if bits is None or endian is None:
        raise NotElf("ELF header with an unknown class or byte order")
    if bits == 64:
        if len(data) < 64:
            raise NotElf("ELF header cut short")
        (etype,) = struct.unpack_from(endian + "H", data, 16)
        phoff, shoff = struct.unpack_from(endian + "QQ", data, 32)
        phentsize, phnum, shentsize, shnum = struct.unpack_from(endian + "HHHH", data, 54)
    else:
        (etype,) = struct.unpack_from(endian + "H", data, 16)
        phoff, shoff = struct.unpack_from(endian + "II", data, 28)
        phentsize, phnum, shentsize, shnum = struct.unpack_from(endian + "HHHH", data, 42)
    return ElfHeader(bits, endian, etype, phoff, shoff, phentsize, phnum, shentsize, shnum)


def interpreter(path) -> str | None:
    """The program loader an executable names (``PT_INTERP``, e.g. ``/lib64/ld-linux-x86-64.so.2``), or None."""
    data = Path(path).read_bytes()
    h = read_header(data)
    for k in range(h.phnum):
        off = h.phoff + k * h.phentsize
        if off + h.phentsize > len(data):
            break
        ptype = struct.unpack_from(h.endian + "I", data, off)[0]
        if ptype != PT_INTERP:
            continue
        if h.bits == 64:
            p_offset, _, _, p_filesz = struct.unpack_from(h.endian + "QQQQ", data, off + 8)
        else:
            p_offset, _, _, p_filesz = struct.unpack_from(h.endian + "IIII", data, off + 4)
        return data[p_offset : p_offset + p_filesz].split(b"\0", 1)[0].decode("utf-8", "replace")
    return None


def dynamic_symbols(data: bytes) -> set[str]:
    """Names in the dynamic symbol table (what a library exports and imports)."""
    h = read_header(data)
    fmt = h.endian + ("IIQQQQIIQQ" if h.bits == 64 else "IIIIIIIIII")
    sections = []
    for k in range(h.shnum):
        off = h.shoff + k * h.shentsize
        if off + struct.calcsize(fmt) > len(data):
            raise NotElf("ELF section table cut short")
        sections.append(struct.unpack_from(fmt, data, off))
    names: set[str] = set()
    for sh in sections:
        _, sh_type, _, _, sh_offset, sh_size, sh_link, _, _, sh_entsize = sh
        if sh_type != SHT_DYNSYM or not sh_entsize or sh_link >= len(sections):
            continue
        strtab = sections[sh_link]
        str_off, str_size = strtab[4], strtab[5]
        strings = data[str_off : str_off + str_size]
        for e in range(sh_size // sh_entsize):
            (st_name,) = struct.unpack_from(h.endian + "I", data, sh_offset + e * sh_entsize)
            if st_name:
                names.add(strings[st_name : strings.find(b"\0", st_name)].decode("utf-8", "replace"))
    return names
