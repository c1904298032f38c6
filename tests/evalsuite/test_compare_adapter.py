"""compare applies a LoRA adapter to the base model it already holds (one load instead of two): the tuned
model built that way scores exactly like the adapter loaded from disk on its own."""

from __future__ import annotations

import pytest

from tests.finetune.conftest import make_tiny_llama


@pytest.fixture(scope="module")
def tiny_with_adapter(tmp_path_factory):
    import torch

    from finetune.models.load import load_for_training

    base = make_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))
    model, tok = load_for_training(str(base), "sft", method="lora")
    torch.manual_seed(1)
    with torch.no_grad():  # LoRA starts as the identity (B = 0); move B so the adapter changes the outputs
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    adapter = tmp_path_factory.mktemp("adapter")
    model.save_pretrained(adapter)
    tok.save_pretrained(adapter)
    return base, adapter


def test_adapter_on_the_base_in_memory_equals_the_adapter_loaded_alone(tiny_with_adapter):
    import torch

    from evalsuite.compare import _adapter_on_base
    from evalsuite.perplexity import load_causal_lm
    from finetune.models import load_for_inference

    base, adapter = tiny_with_adapter
    ids = torch.tensor([[1, 5, 9, 13, 17, 21]])
    bm, _ = load_causal_lm(str(base))
    with torch.no_grad():
        base_logits = bm(input_ids=ids).logits
    tm, tok = _adapter_on_base(bm, str(base), str(adapter))
    alone, _ = load_for_inference(str(adapter), "sft")
    with torch.no_grad():
        a, b = tm(input_ids=ids).logits, alone(input_ids=ids).logits
    assert tok is not None and torch.allclose(a, b, atol=1e-5)
    assert not torch.allclose(a, base_logits, atol=1e-3)  # the adapter is really applied


def test_an_adapter_on_another_base_is_loaded_on_its_own(tiny_with_adapter, tmp_path):
    from evalsuite.compare import _adapter_on_base

    base, adapter = tiny_with_adapter
    other = make_tiny_llama(tmp_path / "other")
    assert _adapter_on_base(object(), str(other), str(adapter)) == (None, None)
    assert _adapter_on_base(object(), str(base), str(base)) == (None, None)  # not an adapter folder
