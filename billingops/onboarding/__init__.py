"""Onboarding: `billingops init` (files for a support repository), `billingops doctor`
(a checklist of keys, labels, permissions, portal and config) and `billingops portal`.

Pure parts (templates, label catalogue, key classification, portal analysis) are separate
from the probes that talk to Stripe and GitHub, so they are tested without a network.
"""
