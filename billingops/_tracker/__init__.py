"""The GitHub port: `interface.py` is what the program needs, `github_gateway.py` is the
adapter over PyGithub (the only module that imports `github`)."""
