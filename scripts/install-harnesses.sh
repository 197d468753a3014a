#!/usr/bin/env bash
# Installs the real coding-agent harnesses at the versions pinned in orchestrator/harness/*.py, under
# one prefix that `siliconbench run --harness NAME` looks in:
#   SILICONBENCH_HARNESS_PREFIX (default ~/.local/share/siliconbench/harnesses)
#     bin/claude, bin/opencode     npm packages (npm install -g --prefix)
#     mini-swe-agent/bin/mini      a venv of its own (litellm's dependencies stay out of siliconbench's)
# Idempotent: a harness already at its pinned version is left alone. Needs npm and python3 -m venv.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
PREFIX="${SILICONBENCH_HARNESS_PREFIX:-$HOME/.local/share/siliconbench/harnesses}"
mkdir -p "$PREFIX"
command -v npm >/dev/null 2>&1 || { echo "install-harnesses.sh: npm is needed (apt-get install npm, or nodejs.org)" >&2; exit 1; }

"$PY" -m orchestrator.harness.registry | while read -r installer name package version; do
  case "$installer" in
    npm)
      have="$(npm ls -g --prefix "$PREFIX" --depth=0 --json 2>/dev/null | "$PY" -c \
        "import json,sys; d=json.load(sys.stdin).get('dependencies',{}); print(d.get('$package',{}).get('version',''))" || true)"
      if [ "$have" != "$version" ]; then
        echo "installing $name $version (npm $package)"
        npm install -g --prefix "$PREFIX" --no-fund --no-audit "$package@$version" >/dev/null
      fi ;;
    pip)
      venv="$PREFIX/$name"
      have="$("$venv/bin/python" -m pip show "$package" 2>/dev/null | sed -n 's/^Version: //p' || true)"
      if [ "$have" != "$version" ]; then
        echo "installing $name $version (pip $package, in $venv)"
        "$PY" -m venv "$venv"
        "$venv/bin/python" -m pip install -q "$package==$version"
      fi ;;
    *) echo "install-harnesses.sh: unknown installer '$installer' for $name" >&2; exit 1 ;;
  esac
done
echo "harnesses installed under $PREFIX"
