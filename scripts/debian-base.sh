#!/usr/bin/env bash
# A minimal Debian 12 root as a tar, made by mmdebstrap from the mirror apt already uses on this
# host (no registry). Cached: does nothing when OUT exists. Root.
#   scripts/debian-base.sh OUT.tar [--slim]
# Default: minbase + ca-certificates (the clean root the package is installed into, make test-deb).
# --slim (the container image's base): minbase alone, and dpkg keeps no manuals, translations or
# documentation but the copyright files, in this root and in whatever is installed into it later.
set -euo pipefail
out=$1
slim=${2:-}
[ -s "$out" ] && exit 0
mirror=""
for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    mirror=$(awk '/^URIs:/ && !/security/ {print $2; exit}' "$f")
    [ -n "$mirror" ] && break
done
if [ -z "$mirror" ] && [ -r /etc/apt/sources.list ]; then
    mirror=$(awk '/^deb / && !/security/ {print $2; exit}' /etc/apt/sources.list)
fi
if [ -z "$mirror" ]; then
    echo "debian-base: no Debian mirror found in /etc/apt" >&2
    exit 1
fi
mkdir -p "$(dirname "$out")"
if [ "$slim" = --slim ]; then
    opts=(--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*'
          --dpkgopt='path-include=/usr/share/locale/locale.alias' --dpkgopt='path-exclude=/usr/share/doc/*'
          --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/info/*')
else
    opts=(--include=ca-certificates)
fi
echo "debian-base: mmdebstrap bookworm minbase ${slim:-} from $mirror -> $out"
mmdebstrap --format=tar --variant=minbase "${opts[@]}" bookworm "$out.part" "$mirror"
mv "$out.part" "$out"
