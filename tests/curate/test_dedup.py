import random

import numpy as np
import pytest

from curate.dedup import exact_duplicate_groups, near_duplicate_clusters, near_duplicates
from curate.dedup.lsh import choose_bands, collision_probability, jaccard, shingle_set
from curate.dedup.minhash import signatures

WORDS = [f"w{i}x" for i in range(3000)]


def _sentence(rng, n=15):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def test_exact_groups_point_at_first_copy():
    assert exact_duplicate_groups(["a", "b", "a", "c", "b"]) == [0, 1, 0, 3, 1]


def test_near_clusters_planted():
    rng = random.Random(0)
    base = [_sentence(rng) for _ in range(200)]
    texts = list(base)
    planted = {}
    for i in range(0, 200, 10):      # one-word edits of every 10th text
        w = base[i].split()
        w[7] = "changed"
        planted[len(texts)] = i
        texts.append(" ".join(w))
    texts.append(base[3])            # an exact copy
    cl = near_duplicate_clusters(texts, threshold=0.7)
    for j, i in planted.items():
        assert cl[j] == i
    assert cl[-1] == 3
    # unrelated random sentences stay singletons
    assert all(cl[i] == i for i in range(200))


def test_signature_agreement_estimates_jaccard():
    rng = random.Random(1)
    a = [_sentence(rng) for _ in range(300)]
    b = []
    for t in a:
        w = t.split()
        w[rng.randrange(15)] = "zz"
        b.append(" ".join(w))
    sa, sb = signatures(a), signatures(b)
    est = (sa == sb).mean(axis=1)
    exact = np.array([jaccard(shingle_set(x, 5), shingle_set(y, 5)) for x, y in zip(a, b, strict=False)])
    assert abs(est.mean() - exact.mean()) < 0.02
    assert np.sqrt(((est - exact) ** 2).mean()) < 0.07


def test_verified_pairs_are_above_threshold_and_exact():
    texts = ["the quick brown fox jumps over the lazy dog today", "the quick brown fox jumps over the lazy dog tonight",
             "something else entirely", "the quick brown fox"]
    nd = near_duplicates(texts, threshold=0.8)
    assert nd.pairs.tolist() == [[0, 1]]
    assert nd.jaccard[0] == pytest.approx(jaccard(shingle_set(texts[0], 5), shingle_set(texts[1], 5)))


def test_band_choice_meets_recall_target():
    b, r = choose_bands(0.8, 128)
    assert b * r <= 128 and collision_probability(0.8, b, r) >= 0.99
    assert collision_probability(0.8, 128 // (r + 1), r + 1) < 0.99


def test_bad_num_perm_rejected():
    with pytest.raises(ValueError):
        signatures(["abc"], num_perm=100)


def test_short_and_unicode_texts():
    cl = near_duplicate_clusters(["", "a", "", "héllo wörld ünïcode text", "héllo wörld ünïcode text!"])
    assert cl[2] == 0 and cl[1] == 1
    assert cl[4] == 3
