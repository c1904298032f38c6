"""evalsuite: metrics, base-vs-tuned comparison with confidence intervals, k-fold CV, and reports.

torch and transformers are imported inside functions, so `import evalsuite` stays cheap.
"""

__version__ = "0.1.0"
