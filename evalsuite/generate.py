"""Batched greedy generation: left padding, KV cache, `max_new_tokens`, stop at EOS, chat template if any.

Prompts are sorted by token length before batching so each batch pads little; outputs come back in input
order. Greedy (do_sample=False) keeps generation deterministic, which the paired comparison needs. Only the
new tokens are decoded, so the prompt never leaks into the prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def format_prompt(tokenizer: Any, prompt: str, use_chat_template: bool | None = None) -> str:
    """The prompt as the model sees it: through the chat template when the tokenizer has one."""
    has_template = bool(getattr(tokenizer, "chat_template", None))
    if use_chat_template if use_chat_template is not None else has_template:
        return tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                             add_generation_prompt=True)
    return prompt


def generate(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    *,
    max_new_tokens: int = 32,
    batch_size: int = 8,
    use_chat_template: bool | None = None,
    label: str = "generate",
) -> list[str]:
    """Greedy continuations of `prompts`.

    Args:
        model: A causal LM (transformers or PEFT).
        tokenizer: Its tokenizer; a pad token is borrowed from EOS when missing.
        prompts: Raw user prompts.
        max_new_tokens: Cap on generated tokens per prompt.
        batch_size: Prompts per `generate` call.
        use_chat_template: Force the chat template on/off; default: on when the tokenizer has one.
        label: What the progress display calls this step.

    Returns:
        The decoded new text for each prompt, stripped, in input order.
    """
    import torch

    from common.progress import track

    texts = [format_prompt(tokenizer, p, use_chat_template) for p in prompts]
    tokenizer.padding_side = "left"  # decoder-only models continue from the last position: pad on the left
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    # a chat template already contains the BOS it needs
    add_special = not bool(use_chat_template if use_chat_template is not None
                           else getattr(tokenizer, "chat_template", None))
    lengths = [len(tokenizer(t, add_special_tokens=add_special)["input_ids"]) for t in texts]
    order = sorted(range(len(texts)), key=lambda i: lengths[i])
    out: list[str] = [""] * len(texts)
    model.eval()
    with torch.inference_mode():
        for s in track(range(0, len(order), batch_size), f"{label} ({len(order):,} prompts)", unit="batches"):
            idx = order[s:s + batch_size]
            enc = tokenizer([texts[i] for i in idx], return_tensors="pt", padding=True,
                            add_special_tokens=add_special)
            gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, use_cache=True,
                                 pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
            new = gen[:, enc["input_ids"].shape[1]:]
            for i, row in zip(idx, new, strict=True):
                out[i] = tokenizer.decode(row, skip_special_tokens=True).strip()
    return out
