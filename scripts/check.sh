#!/usr/bin/env bash
# Lints before a commit: formatting and clippy (pedantic, warnings are errors). The tests are scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
