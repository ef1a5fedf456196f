"""Entry points: the `backdrop` command line and the jobs that wire stages, training and evaluation together."""
