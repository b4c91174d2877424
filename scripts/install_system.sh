#!/usr/bin/env bash
# Install ngspice 46 + libngspice0 from Debian bookworm-backports.
# The backports entry reuses the mirror URI already configured for the main
# Debian archive on this machine (no registry host name is written here).
# Falls back to the distribution's ngspice (39) if backports is unreachable;
# memspice then runs without Verilog-A/OSDI and KLU and says so.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

need_ngspice_46() {
    command -v ngspice >/dev/null 2>&1 || return 0
    local v
    v=$(ngspice -v 2>/dev/null | sed -n 's/.*ngspice-\([0-9]\+\).*/\1/p' | head -n1)
    [ -z "$v" ] && return 0
    [ "$v" -lt 46 ] && return 0
    # shared library must be there too
    ldconfig -p 2>/dev/null | grep -q 'libngspice.so' || return 0
    return 1
}

if ! need_ngspice_46; then
    echo "[memspice] ngspice >= 46 with libngspice already installed"
    exit 0
fi

mirror_uri() {
    # deb822 sources first, then one-line sources.list entries.
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk '
            /^URIs:/ {u=$2}
            /^Suites:/ {for (i=2;i<=NF;i++) if ($i=="bookworm") s=1}
            /^$/ { if (u!="" && s) {print u; exit} u=""; s=0 }
            END { if (u!="" && s) print u }' "$f")
        if [ -n "$uri" ]; then echo "$uri"; return; fi
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        uri=$(awk '$1=="deb" && $3=="bookworm" {print $2; exit}' "$f")
        if [ -n "$uri" ]; then echo "$uri"; return; fi
    done
}

BACKPORTS=/etc/apt/sources.list.d/memspice-bookworm-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    uri=$(mirror_uri || true)
    if [ -n "${uri:-}" ]; then
        echo "[memspice] enabling bookworm-backports from the configured mirror"
        printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            "$uri" | $SUDO tee "$BACKPORTS" >/dev/null
    else
        echo "[memspice] no bookworm mirror found in apt sources; using the default ngspice" >&2
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
if ! $SUDO apt-get install -y -qq -t bookworm-backports ngspice libngspice0 >/dev/null; then
    echo "[memspice] WARNING: ngspice from backports failed; installing the distribution ngspice" >&2
    echo "[memspice] WARNING: without ngspice >= 40 Verilog-A (OSDI) and KLU are unavailable" >&2
    $SUDO apt-get install -y -qq ngspice libngspice0 >/dev/null
fi
# libngspice0 ships libngspice.so.0; PySpice looks for libngspice.so.
lib=$(ldconfig -p | awk '/libngspice.so.0 / {print $NF; exit}')
if [ -n "$lib" ] && [ ! -e "$(dirname "$lib")/libngspice.so" ]; then
    $SUDO ln -s "$(basename "$lib")" "$(dirname "$lib")/libngspice.so"
    $SUDO ldconfig
fi
ngspice -v 2>/dev/null | head -n 3 || true
