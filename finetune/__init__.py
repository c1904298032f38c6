"""finetune: a compact trainer for sequence classification and causal-LM SFT, full or LoRA.

torch, transformers and peft are imported inside functions, so `import finetune` stays cheap.
"""

__version__ = "0.1.0"
