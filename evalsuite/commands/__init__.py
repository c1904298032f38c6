"""One module per evalsuite sub-command; each exposes `register(app)`."""
