#!/usr/bin/env bash
# Builds everything (host, plugins, tests) and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh debug
swift test
