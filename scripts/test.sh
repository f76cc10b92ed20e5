#!/bin/bash
# Installs what is missing, configures, builds and runs every test: the lit regression tests and
# the ctest suites. Exits non-zero on any failure; the last line is `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${OPTFUSE_BUILD_DIR:-build}

scripts/setup.sh || { echo "0 passed, 1 failed (setup.sh failed)"; exit 1; }
scripts/build.sh || { echo "0 passed, 1 failed (the build failed)"; exit 1; }

passed=0
failed=0

# lit: one result per regression test.
lit_log=$(mktemp)
/usr/lib/llvm-22/bin/lit -sv "$BUILD_DIR/test" 2>&1 | tee "$lit_log"
count() { grep -Eo "^ *($1): *[0-9]+" "$lit_log" | awk -F: '{ n += $2 } END { print n + 0 }'; }
lit_passed=$(count 'Passed|Expectedly Failed|Unsupported')
lit_failed=$(count 'Failed|Unexpectedly Passed|Unresolved|Timed Out')
if [ "$lit_passed" -eq 0 ] && [ "$lit_failed" -eq 0 ]; then lit_failed=1; fi # lit did not run
passed=$((passed + lit_passed))
failed=$((failed + lit_failed))
rm -f "$lit_log"

# ctest: everything but the lit suite, which ran above.
if ctest --test-dir "$BUILD_DIR" -N -LE lit | grep -q 'Total Tests: [1-9]'; then
  ctest_log=$(mktemp)
  ctest --test-dir "$BUILD_DIR" -LE lit --output-on-failure 2>&1 | tee "$ctest_log"
  total=$(grep -Eo 'tests failed out of [0-9]+' "$ctest_log" | grep -Eo '[0-9]+$' || echo 0)
  bad=$(grep -Eo '[0-9]+ tests failed out of' "$ctest_log" | grep -Eo '^[0-9]+' || echo 1)
  if [ -z "$total" ] || [ "$total" = 0 ]; then total=1; bad=1; fi
  passed=$((passed + total - bad))
  failed=$((failed + bad))
  rm -f "$ctest_log"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
