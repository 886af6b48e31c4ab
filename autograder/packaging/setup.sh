#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image
# (Ubuntu 22.04, Python 3.10). It installs the pinned runtime, the sandbox tool and the
# unprivileged user that runs student code, and hides the reference from that user.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

apt-get update -qq
apt-get install -y -qq python3 python3-pip python3-venv >/dev/null
# bubblewrap gives student code a private view of its own files and no network where the
# container allows user namespaces; without it grading falls back to the student user.
apt-get install -y -qq bubblewrap >/dev/null \
  || echo "note: bubblewrap not installed; grading will use the student user"

# torch's default wheel pulls gigabytes of CUDA libraries Gradescope's CPU machines cannot
# use: take the CPU build of the pinned version first, then the rest of the pins.
TORCH_PIN="$(grep -E '^torch==' requirements.txt)"
python3 -m pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu \
  "$TORCH_PIN"
python3 -m pip install --no-cache-dir -r requirements.txt

# The user student code runs as (autograder/settings.py: STUDENT_USER).
id -u student >/dev/null 2>&1 \
  || useradd --system --no-create-home --shell /usr/sbin/nologin student

# Bytecode once, here: grading runs its trusted processes with PYTHONDONTWRITEBYTECODE, so
# without it each of them compiles the grader, the tests and the reference again.
python3 -m compileall -q autograder solutions tests

# The reference, the hidden tests and the grader: root only. The student process gets
# its own copies of what it runs (worker, wire format, public figure and predictor code).
chmod -R go-rwx solutions tests/hidden autograder
chmod 755 . tests tests/public
chmod 644 tests/public/*.py
# The Python that runs student code must be runnable by that user.
su -s /bin/sh student -c "python3 -c 'import numpy, matplotlib, torch'" \
  || { echo "error: the student user cannot run python3 with the pinned packages"; exit 1; }
echo "autograder set up: $(python3 --version), torch $(python3 -c 'import torch; print(torch.__version__)')"
