#!/usr/bin/env bash
# The action's install step (action.yml): billingops from the action's own checkout, its
# dependencies exactly as requirements.lock pins them (hash-checked wheels, no build, no
# resolver), into a fresh virtual environment. Nothing is installed by name alone.
#
# In:  BILLINGOPS_ACTION_PATH (the checkout), BILLINGOPS_VENV (where the environment goes),
#      BILLINGOPS_PYTHON_VERSION (default 3.12), uv on PATH (or UV=path).
# Any UV_* setting (UV_OFFLINE, UV_FIND_LINKS, UV_NO_INDEX, UV_CACHE_DIR) passes through:
# the tests install offline from a local wheelhouse that way.
set -euo pipefail
uv=${UV:-uv}
action=${BILLINGOPS_ACTION_PATH:?the action checkout}
venv=${BILLINGOPS_VENV:?where to put the environment}
"$uv" venv --quiet --python "${BILLINGOPS_PYTHON_VERSION:-3.12}" "$venv"
"$uv" pip install --quiet --python "$venv/bin/python" \
  --require-hashes --no-deps --only-binary :all: -r "$action/requirements.lock"
# billingops itself is the checkout, not a package from an index: put it on the path of
# this environment only (no build step, no build backend to download).
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
printf '%s\n' "$action" > "$site/billingops-checkout.pth"
"$venv/bin/python" -P -m billingops --version
