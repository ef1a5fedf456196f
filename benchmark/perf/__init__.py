"""Performance scripts: each writes a markdown report into reports/ with the command that made it at the top."""
