"""GitHub fixtures (filled in by the GitHub gateway work)."""
