"""One module per finetune sub-command; each exposes `register(app)`."""
