#!/usr/bin/env bash
# Builds the host and every plugin, then installs the plugins into the losskit-plugins folder
# beside the executable, where `losskit` finds them by default. Usage: scripts/build.sh [debug|release]
set -euo pipefail
cd "$(dirname "$0")/.."
config="${1:-release}"
swift build -c "$config"
bin="$(swift build -c "$config" --show-bin-path)"
mkdir -p "$bin/losskit-plugins"
chmod 755 "$bin/losskit-plugins"
rm -f "$bin"/losskit-plugins/*.so
for lib in "$bin"/libLossKit*.so; do
    install -m 755 "$lib" "$bin/losskit-plugins/"
done
echo "built $bin/losskit with plugins: $(ls "$bin/losskit-plugins" | tr '\n' ' ')"
