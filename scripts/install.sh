#!/usr/bin/env bash
# Installs LossKit under a prefix, the way C and Swift tools are installed:
#   PREFIX/bin/losskit                      the host
#   PREFIX/lib/losskit/plugins/*.so         the shipped plugins (found by the host from there)
#   PREFIX/include/losskit.h                the plugin contract
#   PREFIX/lib/pkgconfig/losskit.pc         so a C plugin builds with `cc $(pkg-config --cflags losskit)`
#
# Usage: scripts/install.sh [--prefix DIR] [--configuration release|debug] [--no-build]
# The prefix defaults to /usr/local (run as root, or with sudo, there). --no-build installs
# what the last build of that configuration left in .build.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=/usr/local
config=release
build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --configuration) config="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case "$config" in release|debug) ;; *) echo "error: --configuration is release or debug, not '$config'" >&2; exit 2 ;; esac
[ "$build" -eq 1 ] && swift build -c "$config" >&2
bin="$(swift build -c "$config" --show-bin-path)"
[ -x "$bin/losskit" ] || { echo "error: $bin/losskit is missing: build first or drop --no-build" >&2; exit 1; }
prefix="$(mkdir -p "$prefix" && cd "$prefix" && pwd)"
# the .pc's version is the contract's (the ABI), which is what a plugin's build can require
abi="$("$bin/losskit" --version | sed -n 's/^losskit .*(C ABI \([0-9.]*\)).*/\1/p' | head -n 1)"

install -d -m 755 "$prefix/bin" "$prefix/lib/losskit/plugins" "$prefix/include" "$prefix/lib/pkgconfig"
install -m 755 "$bin/losskit" "$prefix/bin/losskit"
rm -f "$prefix"/lib/losskit/plugins/libLossKit*.so
for lib in "$bin"/libLossKit*.so; do install -m 755 "$lib" "$prefix/lib/losskit/plugins/"; done
install -m 644 Sources/CLossKitABI/include/losskit.h "$prefix/include/losskit.h"
cat > "$prefix/lib/pkgconfig/losskit.pc" <<PC
prefix=$prefix
includedir=\${prefix}/include
plugindir=\${prefix}/lib/losskit/plugins

Name: losskit
Description: LossKit plugin contract (losskit.h): objectives and encoders as shared libraries
Version: ${abi:-0}
Cflags: -I\${includedir}
PC
chmod 644 "$prefix/lib/pkgconfig/losskit.pc"
echo "installed losskit (C ABI ${abi:-?}) under $prefix (plugins in $prefix/lib/losskit/plugins)"
