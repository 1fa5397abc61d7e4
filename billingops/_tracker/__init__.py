"""The GitHub port: `interface.py` is what the program needs, `github_gateway.py` is the
adapter over PyGithub, assembled from `client`, `errors`, `reads`, `writes` and `probes`
(only this package imports `github`)."""
