"""Output adapters for `billingops report` and `billingops audit` (pip-audit style): one
module per format behind `interface.Format`, chosen by name with `interface.formatter`."""
