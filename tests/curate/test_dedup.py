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
    texts = [
        "the quick brown fox jumps over the lazy dog today",
        "the quick brown fox jumps over the lazy dog tonight",
        "something else entirely",
        "the quick brown fox",
    ]
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


def test_signatures_are_uint32_and_chunking_does_not_change_them():
    rng = random.Random(2)
    texts = [_sentence(rng, rng.randrange(1, 30)) for _ in range(300)] + ["", "ab", "é"]
    whole = signatures(texts)
    assert whole.dtype == np.uint32 and whole.shape == (len(texts), 128)
    assert np.array_equal(whole, signatures(texts, chunk=7))
    # densification leaves no empty bin, even for texts shorter than one shingle
    assert not (whole == np.uint32(0xFFFFFFFF)).any()


def test_packed_windows_are_the_exact_shingles_of_each_row():
    from curate.dedup.minhash import packed_windows

    texts = ["hello world", "abc", "héllo", "xyzxyzxyz"]
    w, row = packed_windows(texts, 5)
    for i, t in enumerate(texts):
        got = {int(v).to_bytes(8, "little")[:5] for v in w[row == i]}
        assert got == shingle_set(t, 5)


def test_vectorised_exact_jaccard_matches_python_sets():
    from curate.dedup.lsh import exact_jaccard

    rng = random.Random(3)
    base = [_sentence(rng, rng.randrange(2, 20)) for _ in range(60)]
    texts = base + [t.replace(t.split()[0], "zz", 1) for t in base] + ["", "a", "ünï"]
    pairs = np.array(sorted({tuple(sorted(rng.sample(range(len(texts)), 2))) for _ in range(400)}
                            | {(i, i + 60) for i in range(60)} | {(120, 121), (121, 122)}))
    want = [jaccard(shingle_set(texts[a], 5), shingle_set(texts[b], 5)) for a, b in pairs.tolist()]
    assert np.allclose(exact_jaccard(texts, pairs, 5, chunk=17), want, rtol=0, atol=1e-12)
    # shingles over 5 bytes take the Python-set path and agree too
    want7 = [jaccard(shingle_set(texts[a], 7), shingle_set(texts[b], 7)) for a, b in pairs[:50].tolist()]
    assert np.allclose(exact_jaccard(texts, pairs[:50], 7), want7)


def test_candidate_pairs_link_identical_bands_and_nothing_else():
    from curate.dedup.lsh import candidate_pairs

    sig = np.arange(6 * 4, dtype=np.uint32).reshape(6, 4)
    sig[3, :2] = sig[0, :2]        # rows 0 and 3 share band 0
    sig[5, 2:] = sig[1, 2:]        # rows 1 and 5 share band 1
    sig[4] = sig[0]                # row 4 shares both bands with row 0 (and band 0 with row 3)
    got = candidate_pairs(sig, bands=2, rows=2).tolist()
    assert {tuple(p) for p in got} >= {(0, 3), (1, 5), (0, 4)}
    assert all(a < b for a, b in got) and len(got) == len({tuple(p) for p in got})
    assert not {tuple(p) for p in got} & {(0, 1), (2, 3), (1, 2)}


def test_prepared_signatures_are_reused_across_thresholds():
    from curate.dedup import prepare

    rng = random.Random(4)
    base = [_sentence(rng) for _ in range(100)]
    texts = base + [t + " extra" for t in base[:20]] + base[:5]
    prep = prepare(texts)
    for thr in (0.8, 0.9):
        a = near_duplicates(texts, threshold=thr, prepared=prep)
        b = near_duplicates(texts, threshold=thr)
        assert np.array_equal(a.cluster, b.cluster) and np.array_equal(a.pairs, b.pairs)
    with pytest.raises(ValueError):
        near_duplicates(texts, num_perm=64, prepared=prep)


def test_ascii_fast_path_agrees_with_the_full_normalizer():
    from curate.normalize import _CONTROL, _ascii_clean, _whitespace, normalize_text

    samples = ["clean text", " lead", "trail ", "two  spaces", "tab\there", "a \nb", "a\n b", "a\n\n\nb",
               "ctl\x07x", "cr\r\nlf", "ok\nline", "fs\x1csep", "\x0bvt", "del\x7f", "x\n", "a\n\nb"]
    samples += ["".join(random.Random(k).choice("ab \n\t\r\x1f") for _ in range(8)) for k in range(300)]
    for s in samples:
        # the slow steps an ASCII text goes through by default (control characters, then whitespace)
        unchanged = _whitespace(_CONTROL.sub("", s)) == s
        # the fast path may skip exactly the texts those steps leave unchanged
        assert unchanged == _ascii_clean(s), repr(s)
        assert normalize_text(s)[0] == _whitespace(_CONTROL.sub("", s))


def test_16_bit_signatures_are_the_low_bits_of_the_32_bit_ones():
    rng = random.Random(5)
    texts = [_sentence(rng, rng.randrange(1, 20)) for _ in range(50)]
    s32, s16 = signatures(texts), signatures(texts, value_bits=16)
    assert s16.dtype == np.uint16 and np.array_equal(s16, (s32 & 0xFFFF).astype(np.uint16))
    with pytest.raises(ValueError):
        signatures(texts, value_bits=8)


def test_shared_cache_hashes_once_and_drops_signatures_after_two_thresholds():
    from types import SimpleNamespace

    from curate.dedup import shared

    rng = random.Random(6)
    base = [_sentence(rng) for _ in range(80)]
    texts = base + [t.replace(t.split()[3], "qq", 1) for t in base[:30]] + base[:4]
    ctx = SimpleNamespace(texts=texts, shared={}, options={})
    a = shared.near(ctx, 0.8, 128, 5, None)
    assert ("signatures", 128, 5, 0) in ctx.shared
    assert shared.exact_groups(ctx) == exact_duplicate_groups(texts)
    b = shared.near(ctx, 0.9, 128, 5, None)
    assert ("signatures", 128, 5, 0) not in ctx.shared
    assert shared.near(ctx, 0.8, 128, 5, None) is a
    for got, thr in ((a, 0.8), (b, 0.9)):
        want = near_duplicates(texts, threshold=thr)
        assert np.array_equal(got.cluster, want.cluster) and np.array_equal(got.pairs, want.pairs)
    assert (a.cluster != np.arange(len(texts))).sum() >= 30


@pytest.mark.parametrize("value_bits", [32, 16])
def test_parallel_signatures_equal_serial(value_bits):
    """Slabs hashed on a fork pool, concatenated in order, give the serial signatures bit for bit."""
    rng = random.Random(11)
    texts = [_sentence(rng, rng.randrange(1, 30)) for _ in range(2_000)] + ["", "ab", "é", "ü" * 40]
    rng.shuffle(texts)
    serial = signatures(texts, chunk=64, value_bits=value_bits, workers=1)
    # 32 chunks of 64 rows over 2 and 3 workers: several slabs per worker, a short last slab
    for workers in (2, 3):
        par = signatures(texts, chunk=64, value_bits=value_bits, workers=workers)
        assert par.dtype == serial.dtype and np.array_equal(par, serial)


def test_parallel_is_chosen_from_the_row_threshold(monkeypatch):
    """workers=None goes parallel from PARALLEL_MIN_ROWS rows (on Linux), with the same result."""
    import curate.dedup.minhash as mh

    calls = []
    real = mh._parallel_signatures
    monkeypatch.setattr(mh, "_parallel_signatures", lambda *a: calls.append(a[1]) or real(*a))
    monkeypatch.setattr(mh, "_workers", lambda: 2)
    rng = random.Random(4)
    texts = [_sentence(rng, 12) for _ in range(500)]
    monkeypatch.setattr(mh, "PARALLEL_MIN_ROWS", 10_000)
    small = signatures(texts, chunk=50)
    assert calls == []
    monkeypatch.setattr(mh, "PARALLEL_MIN_ROWS", 400)
    assert np.array_equal(signatures(texts, chunk=50), small)
    assert calls == [2]


def _planted_near_dups(rng, n_base=400):
    base = [_sentence(rng) for _ in range(n_base)]
    texts = list(base)
    for i in range(0, n_base, 2):      # one- and two-word edits of every other text: many candidates
        w = base[i].split()
        w[rng.randrange(15)] = "changed"
        texts.append(" ".join(w))
        w[rng.randrange(15)] = "again"
        texts.append(" ".join(w))
    texts += base[:5]                  # exact copies
    return texts


def test_parallel_verification_equals_serial(monkeypatch):
    """Candidate slices verified on a fork pool give the serial pairs, Jaccard and clusters exactly."""
    import multiprocessing

    import curate.dedup as dedup

    texts = _planted_near_dups(random.Random(8))
    monkeypatch.setattr(dedup, "PARALLEL_MIN_PAIRS", 10**9)
    serial = near_duplicates(texts, threshold=0.7)
    assert len(serial.pairs) >= 300   # the planted edits were found
    pools = []
    real_ctx = multiprocessing.get_context
    monkeypatch.setattr(multiprocessing, "get_context", lambda m=None: pools.append(m) or real_ctx(m))
    monkeypatch.setattr(dedup, "PARALLEL_MIN_PAIRS", 10)
    monkeypatch.setattr("curate.dedup.minhash._workers", lambda: 2)
    par = near_duplicates(texts, threshold=0.7)
    assert pools == ["fork"]   # verification went to the pool (signatures stayed serial: few rows)
    assert np.array_equal(par.pairs, serial.pairs) and par.pairs.dtype == serial.pairs.dtype
    assert np.array_equal(par.jaccard, serial.jaccard)
    assert np.array_equal(par.cluster, serial.cluster)
    assert par.candidates == serial.candidates


def test_parallel_verification_slices_any_worker_count():
    import curate.dedup as dedup
    from curate.dedup.lsh import candidate_pairs, choose_bands

    texts = _planted_near_dups(random.Random(3), n_base=200)
    p = dedup.prepare(texts)
    utexts = [texts[i] for i in p.uniq.tolist()]
    cand = candidate_pairs(p.sig, *choose_bands(0.7, 128))
    for verify in ("exact", "estimate"):
        ref = dedup._verify(utexts, p.sig, cand, 0.7, 5, verify, workers=1)
        assert len(ref.pairs) > 50
        for workers in (2, 3):
            got = dedup._verify(utexts, p.sig, cand, 0.7, 5, verify, workers=workers)
            assert np.array_equal(got.pairs, ref.pairs) and np.array_equal(got.jaccard, ref.jaccard)
            assert got.exact == ref.exact == (verify == "exact")


@pytest.mark.parametrize("workers", [2, 3, 40])
def test_parallel_banding_equals_serial(workers):
    """Bands split between fork workers, pairs united: the serial candidate pairs, same order and dtype."""
    import curate.dedup as dedup
    from curate.dedup.lsh import candidate_pairs, choose_bands

    texts = _planted_near_dups(random.Random(6), n_base=300)
    sig = signatures(texts, value_bits=16)
    for threshold in (0.7, 0.9):
        bands, rows = choose_bands(threshold, 128)
        serial = candidate_pairs(sig, bands, rows)
        assert len(serial) > 100
        par = dedup._candidates(sig, bands, rows, workers=workers)   # 40 > bands: capped at one per band
        assert par.dtype == serial.dtype and np.array_equal(par, serial)
    assert dedup._candidates(sig[:1], 4, 2, workers=2).shape == (0, 2)
