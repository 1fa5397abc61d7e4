#!/usr/bin/env bash
# The action's run step (action.yml): one billingops command, chosen from a fixed list, so
# no input ever becomes shell text. The event comes from $GITHUB_EVENT_PATH (set by Actions).
#
# In:  BILLINGOPS_VENV, BILLINGOPS_COMMAND, BILLINGOPS_REPORT_ISSUE (for `report`),
#      STRIPE_API_KEY, GITHUB_TOKEN and the usual GITHUB_* variables.
set -euo pipefail
python="${BILLINGOPS_VENV:?the environment action-install.sh made}/bin/python"
# -P: the working directory (the support repository) is never put on the import path.
case "${BILLINGOPS_COMMAND:-}" in
  # The read-only job: triage, and every check of an approval, but no Stripe write; says
  # (output apply-pending) when approved steps wait for the apply job.
  gate) exec "$python" -P -m billingops handle --read-only ;;
  # The write job: execute the approved steps, nothing else (it never triages).
  apply) exec "$python" -P -m billingops apply --event "${GITHUB_EVENT_PATH:?}" ;;
  triage) exec "$python" -P -m billingops triage --event "${GITHUB_EVENT_PATH:?}" ;;
  report)
    if [[ -n "${BILLINGOPS_REPORT_ISSUE:-}" ]]; then
      [[ "$BILLINGOPS_REPORT_ISSUE" =~ ^[1-9][0-9]*$ ]] || {
        echo "billingops: report-issue must be an issue number" >&2; exit 2; }
      exec "$python" -P -m billingops report --format markdown --post "$BILLINGOPS_REPORT_ISSUE"
    fi
    "$python" -P -m billingops report --format markdown >> "${GITHUB_STEP_SUMMARY:-/dev/stdout}"
    ;;
  version) exec "$python" -P -m billingops --version ;;
  *)
    echo "billingops: unknown command '${BILLINGOPS_COMMAND:-}' (gate, apply, triage, report, version)" >&2
    exit 2
    ;;
esac
