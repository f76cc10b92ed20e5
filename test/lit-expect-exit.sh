#!/bin/sh
# Runs a command and fails unless it exits with the given code: `lit-expect-exit.sh CODE CMD...`.
# Output passes through, so the diagnostics can be FileChecked.
code=$1
shift
"$@"
rc=$?
if [ "$rc" -ne "$code" ]; then
  echo "lit-expect-exit: expected exit code $code, got $rc" >&2
  exit 1
fi
