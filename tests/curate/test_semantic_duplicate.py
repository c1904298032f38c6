"""`semantic_duplicate`: exact cosine pair search, and the opt-in check on the real MiniLM."""

from __future__ import annotations

import json

import numpy as np
import pytest

from curate.dedup.semantic import similar_pairs


def test_similar_pairs_finds_exactly_the_pairs_above_threshold_across_blocks() -> None:
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(50, 16))
    emb[7] = emb[3] + 0.01 * rng.normal(size=16)     # planted near-copies
    emb[42] = emb[3] + 0.01 * rng.normal(size=16)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    pairs, sims = similar_pairs(emb, 0.99, block=8)  # small blocks: pairs straddle block boundaries
    assert sorted(map(tuple, pairs.tolist())) == [(3, 7), (3, 42), (7, 42)]
    assert np.all(sims >= 0.99)
    brute = {(i, j) for i in range(50) for j in range(i + 1, 50) if emb[i] @ emb[j] >= 0.99}
    assert brute == set(map(tuple, pairs.tolist()))


@pytest.mark.slow
def test_semantic_check_links_paraphrases_on_minilm(tmp_path, run_main) -> None:
    import curate.cli

    rows = [
        ("a", "The cat is sitting on the mat.", "pets"),
        ("b", "A cat sits on the mat.", "pets"),
        ("c", "Stock markets fell sharply after the central bank raised interest rates.", "finance"),
        ("d", "Shares dropped steeply once the central bank increased interest rates.", "finance"),
        ("e", "My favourite recipe uses fresh basil and tomatoes.", "food"),
        ("f", "The train to Glasgow leaves at noon from platform four.", "travel"),
    ]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": t, "label": lab}) + "\n" for i, t, lab in rows))

    def linked(threshold: float | None) -> dict[str, str]:
        out = tmp_path / f"check-{threshold}.json"
        extra = ["-c", f"checks.semantic_duplicate.threshold={threshold}"] if threshold else []
        assert run_main(curate.cli.main, ["check", str(path), "--enable", "semantic_duplicate", *extra,
                                          "--json", str(out), "--fail-on", "never"]) == 0
        result = {c["name"]: c for c in json.loads(out.read_text())["checks"]}["semantic_duplicate"]
        assert all((threshold or 0.95) <= f["cosine"] <= 1 for f in result["findings"])
        return {f["id"]: f["duplicate_of"] for f in result["findings"]}

    # MiniLM cosines here: cat pair 0.97, the reworded finance pair 0.73, unrelated pairs <= 0.08.
    assert linked(None) == {"b": "a"}            # the default 0.95 keeps only near-verbatim restatements
    assert linked(0.7) == {"b": "a", "d": "c"}
