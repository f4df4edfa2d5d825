#!/usr/bin/env bash
# make image: the f0mesh container image, from nothing but the Debian mirror apt uses.
#   scripts/build-image.sh [OUT_DIR] [TAG]        (root; needs web/dist: make web)
# 1. a slim Debian 12 minbase root by mmdebstrap (cached in OUT_DIR/debian12-slim.tar), imported as
#    localhost/f0mesh-base:bookworm;
# 2. podman build of packaging/Containerfile (two stages) on a context of the sources the build
#    needs and the built dashboard -> localhost/f0mesh:TAG (and :latest).
# F0_IMAGE_NO_CACHE=1 rebuilds every layer (the figure "from nothing" in the closing note).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build-image}
tag=${2:-$(sed -n 's/^project(f0mesh VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)}
# shellcheck source=podman-host.sh
source scripts/podman-host.sh
podman_host_setup "$out"
start=$(date +%s)

if [ ! -f web/dist/index.html ]; then
    echo "build-image: no dashboard in web/dist (run make web first)" >&2
    exit 1
fi

base="$out/debian12-slim.tar"
bash scripts/debian-base.sh "$base" --slim
stamp="$out/base.imported"
if ! podman image exists localhost/f0mesh-base:bookworm || [ "$base" -nt "$stamp" ]; then
    podman import --quiet "$base" localhost/f0mesh-base:bookworm
    touch "$stamp"
fi

ctx="$out/context"
rm -rf "$ctx"
mkdir -p "$ctx"
git ls-files --cached --others --exclude-standard -z -- CMakeLists.txt cmake src examples packaging README.md docs \
    | tar --null -T - -cf - | tar -C "$ctx" -xf -
mkdir -p "$ctx/web"
cp -r web/dist "$ctx/web/dist"

cache=()
[ "${F0_IMAGE_NO_CACHE:-0}" = 1 ] && cache=(--no-cache)
podman build --format docker "${cache[@]}" -f packaging/Containerfile \
    -t "localhost/f0mesh:$tag" -t localhost/f0mesh:latest "$ctx"
size=$(podman image inspect localhost/f0mesh:latest --format '{{.Size}}')
echo "build-image: localhost/f0mesh:$tag ($((size / 1000000)) MB) in $(($(date +%s) - start)) s"
