"""One module per curate sub-command; each exposes `register(app)`."""
