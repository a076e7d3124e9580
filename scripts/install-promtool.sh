#!/usr/bin/env bash
# Installs only promtool, from Debian's `prometheus` package, into the directory given:
# the .deb is downloaded (no install, no service) and just usr/bin/promtool is unpacked.
# Exits non-zero with one clear line when it cannot be had (no apt, not Debian, offline).
set -euo pipefail
dest=$1
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || { echo "install-promtool: apt-get/dpkg-deb not found (not a Debian system)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# apt-get download needs the package lists; refresh them once if the first try fails.
if ! apt-get download prometheus >/dev/null 2>&1; then
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get download prometheus >/dev/null 2>&1 || { echo "install-promtool: apt-get download prometheus failed" >&2; exit 1; }
fi
dpkg-deb --fsys-tarfile prometheus_*.deb | tar -x ./usr/bin/promtool
mkdir -p "$dest"
mv usr/bin/promtool "$dest/promtool"
"$dest/promtool" --version 2>&1 | head -1
