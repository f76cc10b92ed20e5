#!/bin/bash
# Configures (once) and builds optfuse in build/ with Ninja and ccache. Used by test.sh and demo.sh;
# extra arguments go to ninja (for example a target name).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${OPTFUSE_BUILD_DIR:-build}
JOBS=${OPTFUSE_JOBS:-2}

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -G Ninja -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
fi
ninja -C "$BUILD_DIR" -j"$JOBS" "$@"
