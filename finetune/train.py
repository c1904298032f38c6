"""The training loop, in one file, top to bottom: `run(cfg: TrainConfig) -> TrainResult`.

1. read the splits and reject bad data before any weights load (empty splits, wrong kind, unseen val labels,
   a max length that leaves prompts without answers);
2. tokenize (chat template, completion-only labels), build the model (head, dropout, LoRA), AdamW with
   weight decay off for biases and norms, linear warmup then cosine/linear decay;
3. loop: length-grouped batches whose order depends only on (seed, epoch), gradient accumulation, clipping,
   validation every N steps or each epoch, early stopping on a chosen metric, the best weights kept;
4. checkpoints (weights or adapter, optimizer, scheduler, RNG states, data position) make `resume` exact;
5. save the best model, metrics.jsonl, summary.json, TensorBoard logs, config.yaml and manifest.json.

Devices, mixed precision and multi-GPU go through accelerate, so `accelerate launch -m finetune run ...`
works unchanged: each process takes every world_size-th batch and gradients are averaged by DDP.
"""

from __future__ import annotations

import json
import math
import os
import random
import resource
import shutil
import time
from pathlib import Path
from typing import Any

import yaml

from finetune import data as D
from finetune.errors import FinetuneError
from schemas.configs.train import TrainConfig, TrainResult

CKPT = "checkpoint"
BEST = "best.pt"
# Refuse SFT data when more than this share of rows would lose every answer token to truncation.
MAX_NO_ANSWER_SHARE = 0.5


# ------------------------------------------------------------------------------------------------ data
def read_splits(cfg: TrainConfig) -> tuple[list[dict], list[dict], dict[str, dict[str, int]]]:
    """Train and val records from a split folder, train/val paths, or train alone with a seeded hold-out,
    plus the loader's quarantine counts per split."""
    d = cfg.data
    kind = d.kind or ("classification" if cfg.task == "classification" else None)
    if d.split_dir:
        train_path, val_path = D.find_split(d.split_dir, "train"), D.find_split(d.split_dir, "val")
    elif d.train:
        train_path, val_path = d.train, d.val
    else:
        raise FinetuneError("no training data given", fix="pass --data SPLIT_DIR, or --train FILE [--val FILE]")
    train, q_train = D.load_records(train_path, kind, d.limit_train if val_path else None, cfg.seed)
    q_val: dict[str, int] = {}
    if val_path:
        val, q_val = D.load_records(val_path, kind, d.limit_val, cfg.seed)
    else:  # hold out a seeded fraction; subsample after, so limit_train/limit_val keep their meaning
        order = list(range(len(train)))
        random.Random(cfg.seed).shuffle(order)
        n_val = max(1, round(len(train) * d.val_fraction)) if len(train) > 1 else 0
        val = [train[i] for i in order[:n_val]]
        train = [train[i] for i in order[n_val:]]
        if d.limit_train:
            train = train[: d.limit_train]
        if d.limit_val:
            val = val[: d.limit_val]
    return train, val, {"train": q_train, "val": q_val}


def check_lengths(cfg: TrainConfig, stats: dict) -> None:
    """Refuse SFT data whose answers mostly fall past max_length; judged on the rows tokenized so far (at least
    the first mega-batch of the first epoch, see `finetune.lazy`)."""
    rows = stats.get("tokenized", stats["rows"])
    if cfg.task == "sft" and rows and stats["no_answer_tokens"] / rows > MAX_NO_ANSWER_SHARE:
        raise FinetuneError(
            f"max_length={cfg.max_length} is shorter than the prompts: {stats['no_answer_tokens']} of "
            f"{rows} training rows keep no answer token after truncation",
            fix="raise --max-length, or shorten the prompts (curate's length check lists the longest rows)")


# ------------------------------------------------------------------------------------------------ optim
def build_optimizer(model: Any, cfg: TrainConfig) -> Any:
    import torch

    # Weight decay on biases and norm weights only shrinks them toward 0 without regularizing (BERT, nanoGPT).
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if p.ndim < 2 or "norm" in name.lower() else decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.optim.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    kw = {"lr": cfg.optim.lr, "betas": cfg.optim.betas, "eps": cfg.optim.eps}
    try:  # the fused kernel is one pass over all tensors: ~5x faster steps on CPU than the per-tensor loop
        return torch.optim.AdamW(groups, fused=True, **kw)
    except (RuntimeError, ValueError):
        return torch.optim.AdamW(groups, **kw)


def lr_lambda(total: int, warmup: int, schedule: str):
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        if schedule == "constant":
            return 1.0
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return 0.5 * (1.0 + math.cos(math.pi * progress)) if schedule == "cosine" else 1.0 - progress
    return f


# ------------------------------------------------------------------------------------------------ steps
def compute_loss(model: Any, batch: dict, task: str, class_weights: Any = None) -> tuple[Any, Any]:
    """(mean loss, logits). For SFT only the positions that carry a label go through the LM head: on a
    49k-token vocabulary the head is ~20% of the FLOPs and most of the activation memory, and prompt
    positions would be thrown away by the mask anyway."""
    import torch.nn.functional as F

    if task == "classification":
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.float()
        return F.cross_entropy(logits, batch["labels"], weight=class_weights), logits
    # position t predicts token t+1, so the label of position t is labels[t+1]
    target = batch["labels"][:, 1:]
    keep = target != D.IGNORE
    keep = F.pad(keep, (0, 1), value=False)
    extra = {"position_ids": batch["position_ids"]} if "position_ids" in batch else \
        {"attention_mask": batch["attention_mask"]}
    logits = model(input_ids=batch["input_ids"], logits_to_keep=keep, use_cache=False, **extra).logits
    return F.cross_entropy(logits.float(), target[keep[:, :-1]], reduction="mean"), None


def evaluate(model: Any, examples: list[dict], cfg: TrainConfig, pad_id: int, device: Any,
             probs_out: list | None = None) -> dict[str, float]:
    """Validation loss plus accuracy/macro-F1 (classification) or token perplexity (SFT, answer tokens only).

    Classification: when `probs_out` is a list, it receives each example's class probabilities, in the order
    of `examples`.
    """
    import torch

    model.eval()
    bs = cfg.eval_batch_size or 2 * cfg.batch_size
    batches = D.length_grouped_batches([len(e["input_ids"]) for e in examples], bs, 0, shuffle=False)
    total, count, preds, golds, probs = 0.0, 0, [], [], {}
    with torch.no_grad():
        for idx in batches:
            batch = D.collate([examples[i] for i in idx], pad_id)
            batch.pop("n_tokens")
            batch = {k: v.to(device) for k, v in batch.items()}
            loss, logits = compute_loss(model, batch, cfg.task)
            n = len(idx) if cfg.task == "classification" else int((batch["labels"][:, 1:] != D.IGNORE).sum())
            total += float(loss) * n
            count += n
            if logits is not None:
                n_cls = logits.shape[-1]
                preds += logits.argmax(-1).tolist()
                golds += batch["labels"].tolist()
                if probs_out is not None:
                    probs.update(zip(idx, torch.softmax(logits, -1).tolist(), strict=True))
    model.train()
    if probs_out is not None:
        probs_out[:] = [probs[i] for i in range(len(examples))] if probs else []
    out = {"loss": total / max(1, count)}
    if cfg.task == "classification":
        out["accuracy"] = sum(p == g for p, g in zip(preds, golds, strict=True)) / max(1, len(golds))
        out["macro_f1"] = macro_f1(golds, preds, n_cls)
    else:
        out["perplexity"] = math.exp(min(out["loss"], 50.0))
    return out


def macro_f1(golds: list[int], preds: list[int], n_cls: int) -> float:
    """Unweighted mean of per-class F1 over all classes (sklearn's average="macro", zero_division=0)."""
    f1s = []
    for c in range(n_cls):
        tp = sum(g == c and p == c for g, p in zip(golds, preds, strict=True))
        fp = sum(g != c and p == c for g, p in zip(golds, preds, strict=True))
        fn = sum(g == c and p != c for g, p in zip(golds, preds, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / max(1, n_cls)


# ------------------------------------------------------------------------------------------------ state
def trainable_state(model: Any) -> dict:
    """Full fine-tuning: every weight. LoRA: only what trains (adapter and head), a few MB."""
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    full = all(p.requires_grad for p in model.parameters())
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items() if full or k in names}


def rng_state() -> dict:
    import numpy as np
    import torch

    s = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        s["cuda"] = torch.cuda.get_rng_state_all()
    return s


def set_rng_state(s: dict) -> None:
    import numpy as np
    import torch

    random.setstate(s["python"])
    np.random.set_state(s["numpy"])
    torch.set_rng_state(s["torch"])
    if "cuda" in s and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


def save_checkpoint(out: Path, model: Any, optimizer: Any, scheduler: Any, state: dict) -> None:
    """Write to a temporary folder, then rename: a kill mid-write leaves the previous checkpoint intact."""
    import torch

    tmp, final, old = out / (CKPT + ".tmp"), out / CKPT, out / (CKPT + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    tmp.mkdir()
    torch.save({"model": trainable_state(model), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "rng": rng_state()}, tmp / "state.pt")
    (tmp / "trainer_state.json").write_text(json.dumps(state, indent=1))
    if final.exists():
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


def load_checkpoint(out: Path, model: Any, optimizer: Any, scheduler: Any) -> dict:
    import torch

    ckpt = out / CKPT
    if not ckpt.exists() and (out / (CKPT + ".old")).exists():  # killed between the two renames
        ckpt = out / (CKPT + ".old")
    if not (ckpt / "trainer_state.json").exists():
        raise FinetuneError(f"--resume: no checkpoint in {out}", fix="drop --resume, or set checkpoint_every so runs write one")
    blob = torch.load(ckpt / "state.pt", map_location="cpu", weights_only=False)
    model.load_state_dict(blob["model"], strict=False)
    optimizer.load_state_dict(blob["optimizer"])
    scheduler.load_state_dict(blob["scheduler"])
    set_rng_state(blob["rng"])
    state = json.loads((ckpt / "trainer_state.json").read_text())
    # drop log lines the killed run wrote after this checkpoint, so metrics.jsonl reads as one run
    log = out / "metrics.jsonl"
    if log.exists():
        keep = [ln for ln in log.read_text().splitlines() if ln.strip() and json.loads(ln)["step"] <= state["step"]]
        log.write_text("".join(ln + "\n" for ln in keep))
    return state


def peak_mem_mb() -> float:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


# ------------------------------------------------------------------------------------------------ run
def run(cfg: TrainConfig) -> TrainResult:
    """Train `cfg.model` on `cfg.data` and write everything to `cfg.out`. See the module docstring."""
    import torch
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    from finetune.lazy import BatchOrder, ExampleStore, grouped_batches
    from finetune.models import load_for_training, load_tokenizer, quiet_transformers, resolve_model
    from finetune.progress import TrainProgress

    t_start = time.perf_counter()
    quiet_transformers()
    out = Path(cfg.out)

    # 1. data, validated before any weights load
    train_recs, val_recs, quarantined = read_splits(cfg)
    D.validate_records(train_recs, val_recs, cfg.task)
    known = {"classification": ("loss", "accuracy", "macro_f1"), "sft": ("loss", "perplexity")}[cfg.task]
    if cfg.early_stopping.metric not in known:
        raise FinetuneError(f"early_stopping.metric={cfg.early_stopping.metric!r} is not computed for task={cfg.task}",
                            fix=f"use one of {', '.join(known)}")
    id2label, label2id = D.label_maps(train_recs) if cfg.task == "classification" else ({}, {})
    weights = D.class_weight_vector(train_recs, label2id, cfg.class_weights) if cfg.task == "classification" else None
    ref = resolve_model(cfg.model)
    tok = load_tokenizer(ref.path)
    # Training rows are tokenized when a batch first needs them (finetune.lazy): a run of a few steps over a
    # large split pays for the rows it sees, not for the whole split. Val is evaluated whole, so tokenized now.
    kw = {"label2id": label2id, "loss_on": cfg.loss_on}
    train_store = ExampleStore(train_recs, tok, cfg.task, cfg.max_length, **kw)
    val_store = ExampleStore(val_recs, tok, cfg.task, cfg.max_length, **kw)
    val_ex = val_store.all()
    if cfg.packing:  # packing places every example, so it needs all of them
        packed = D.pack_examples(train_store.all(), cfg.max_length)
        n_train, get_example, length_of = len(packed), packed.__getitem__, (lambda i: len(packed[i]["input_ids"]))
    else:
        n_train, get_example, length_of = len(train_store), train_store.get, train_store.length

    def epoch_order(epoch: int, rank: int = 0, world: int = 1, limit: int | None = None) -> BatchOrder:
        # the order of an epoch depends only on (seed, epoch): resuming at (epoch, micro) replays it exactly
        return BatchOrder(grouped_batches(n_train, cfg.batch_size, cfg.seed * 1000 + epoch, length_of,
                                          group_by_length=cfg.group_by_length), rank, world, limit)

    epoch_order(0).available(0)  # the first mega-batch, so bad lengths are refused before any weights load
    check_lengths(cfg, train_store.stats)
    if not val_ex:
        raise FinetuneError("no validation row keeps an answer token at this max_length", fix="raise --max-length")
    if not cfg.resume and out.exists() and (out / CKPT).exists():
        shutil.rmtree(out / CKPT)  # a fresh run must not be mistaken for the continuation of an old one
    out.mkdir(parents=True, exist_ok=True)

    # 2. model, optimizer, schedule
    set_seed(cfg.seed)
    cuda = torch.cuda.is_available()
    precision = {"auto": "bf16" if cuda else "no", "fp32": "no"}.get(cfg.precision, cfg.precision)
    if precision != "no" and not cuda:
        raise FinetuneError(f"precision={cfg.precision} needs a GPU", fix="use precision=auto or fp32 on CPU")
    acc = Accelerator(mixed_precision=precision, cpu=not cuda)
    model, _ = load_for_training(ref.path, cfg.task, method=cfg.method, lora=cfg.lora, dropout=cfg.dropout,
                                 id2label=id2label)
    model.train()
    optimizer = build_optimizer(model, cfg)
    world, rank = acc.num_processes, acc.process_index
    micro_per_epoch = math.ceil(n_train / cfg.batch_size) // world
    if micro_per_epoch == 0:
        raise FinetuneError(f"{n_train} training rows make no batch on {world} processes", fix="lower --batch-size")
    steps_per_epoch = math.ceil(micro_per_epoch / cfg.grad_accum)
    total_steps = cfg.max_steps or max(1, math.ceil(cfg.epochs * steps_per_epoch))
    warmup = int(cfg.optim.warmup * total_steps) if cfg.optim.warmup < 1 else int(cfg.optim.warmup)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(total_steps, warmup, cfg.optim.schedule))
    model, optimizer = acc.prepare(model, optimizer)
    device = acc.device
    cw = torch.tensor(weights, device=device) if weights else None
    pad_id = tok.pad_token_id
    eval_model = acc.unwrap_model(model)  # every rank evaluates all of val: no collective inside eval

    state: dict[str, Any] = {"step": 0, "epoch": 0, "micro": 0, "tokens": 0, "train_s": 0.0, "best": None,
                             "best_step": None, "bad_evals": 0, "last_eval": None, "stop": None}
    # what must not change between a run and its resumption (progress bars and the resume flag may)
    fingerprint = cfg.model_dump(mode="json", exclude={"resume", "progress"})
    if cfg.resume:
        state = load_checkpoint(out, acc.unwrap_model(model), optimizer, scheduler)
        changed = sorted(k for k, v in fingerprint.items() if state.get("config", {}).get(k) != v)
        if changed:
            raise FinetuneError(f"--resume with a config that differs from the checkpoint's in: {', '.join(changed)}",
                                fix="resume with the same settings (see OUT/checkpoint/trainer_state.json), or start afresh")
    state["config"] = fingerprint
    mode = cfg.early_stopping.resolved_mode()
    main = acc.is_main_process
    if main:
        from torch.utils.tensorboard import SummaryWriter

        tb = SummaryWriter(str(out / "tb"))
        if not cfg.resume:
            (out / "metrics.jsonl").write_text("")

    def log(event: dict) -> None:
        if main:  # append and close per event: a killed run leaves every line it logged
            with open(out / "metrics.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(event) + "\n")
            for k, v in event.items():
                if isinstance(v, (int, float)) and k not in ("step", "epoch"):
                    tb.add_scalar(f"{event['split']}/{k}", v, event["step"])

    best_val_probs: list = []  # class probabilities of the best (saved) weights on val, for val_predictions.jsonl

    def validate() -> None:
        probs: list | None = [] if cfg.task == "classification" else None
        metrics = evaluate(eval_model, val_ex, cfg, pad_id, device, probs)
        state["last_eval"], state["eval_step"] = metrics, state["step"]
        log({"step": state["step"], "epoch": round(state["epoch"] + state["micro"] / micro_per_epoch, 4),
             "split": "val", **metrics})
        value, best = metrics[cfg.early_stopping.metric], state["best"]
        delta = cfg.early_stopping.min_delta
        better = best is None or (value < best[cfg.early_stopping.metric] - delta if mode == "min"
                                  else value > best[cfg.early_stopping.metric] + delta)
        if better:
            state.update(best=metrics, best_step=state["step"], bad_evals=0)
            best_val_probs[:] = probs or []
            if main:  # the best weights are what gets saved at the end, whatever comes after
                torch.save(trainable_state(eval_model), out / BEST)
        else:
            state["bad_evals"] += 1
            if cfg.early_stopping.patience and state["bad_evals"] >= cfg.early_stopping.patience:
                state["stop"] = "early_stopping"

    if cfg.eval_before and not cfg.resume:  # the base model's score, for "did training help at all"
        state["initial"] = evaluate(eval_model, val_ex, cfg, pad_id, device)
        log({"step": 0, "epoch": 0.0, "split": "val", **state["initial"]})

    # 3. the loop
    progress = TrainProgress(total_steps, enabled=cfg.progress and main)
    progress.start(state["step"])
    window_loss, window_n = 0.0, 0
    while state["step"] < total_steps and state["stop"] is None:
        order = epoch_order(state["epoch"], rank, world, micro_per_epoch)
        while state["micro"] < micro_per_epoch and state["step"] < total_steps and state["stop"] is None:
            t0, c0 = time.perf_counter(), time.process_time()
            n_micro = min(cfg.grad_accum, micro_per_epoch - state["micro"])  # the epoch's last step may be short
            # SFT rows left with no answer token are left out of their batches, so an epoch can end a batch early
            n_micro = sum(order.available(state["micro"] + j) for j in range(n_micro))
            if n_micro == 0:
                state["micro"] = micro_per_epoch
                break
            tokens = 0
            for j in range(n_micro):
                batch = D.collate([get_example(i) for i in order[state["micro"] + j]], pad_id)
                tokens += batch.pop("n_tokens")
                batch = {k: v.to(device) for k, v in batch.items()}
                sync = acc.no_sync(model) if j < n_micro - 1 and world > 1 else _null()
                with sync, acc.autocast():
                    loss, _ = compute_loss(model, batch, cfg.task, cw)
                    acc.backward(loss / n_micro)
                window_loss += float(loss.detach()) / n_micro
            if cfg.optim.max_grad_norm:  # clipping keeps one bad batch from undoing warmup
                acc.clip_grad_norm_(model.parameters(), cfg.optim.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            window_n += 1
            state["micro"] += n_micro
            state["step"] += 1
            state["tokens"] += tokens * world
            state["train_s"] += time.perf_counter() - t0
            state["train_cpu_s"] = state.get("train_cpu_s", 0.0) + time.process_time() - c0
            tps = state["tokens"] / max(state["train_s"], 1e-9)
            lr = scheduler.get_last_lr()[0]
            progress.update(state["step"], loss=window_loss / window_n, lr=lr, tps=tps)
            if state["step"] % cfg.log_every == 0 or state["step"] == total_steps:
                log({"step": state["step"], "epoch": round(state["epoch"] + state["micro"] / micro_per_epoch, 4),
                     "split": "train", "loss": window_loss / window_n, "lr": lr, "tokens_per_s": tps})
                window_loss, window_n = 0.0, 0
            if cfg.eval_every and state["step"] % cfg.eval_every == 0:
                validate()
            if cfg.checkpoint_every and state["step"] % cfg.checkpoint_every == 0 and main:
                save_checkpoint(out, acc.unwrap_model(model), optimizer, scheduler, state)
        if state["micro"] >= micro_per_epoch:
            state["epoch"] += 1
            state["micro"] = 0
            if not cfg.eval_every and state["stop"] is None:
                validate()
    progress.stop()
    stop_reason = state["stop"] or ("max_steps" if cfg.max_steps and state["step"] >= cfg.max_steps else "epochs")
    if state.get("eval_step") != state["step"]:
        validate()  # the final metrics always describe the final weights

    # 4. save the best weights (not the last), plus labels, merged weights, summary, config, manifest
    acc.wait_for_everyone()
    result_model = acc.unwrap_model(model)
    merged_path = None
    if main:
        if (out / BEST).exists():
            result_model.load_state_dict(torch.load(out / BEST, map_location="cpu"), strict=False)
        result_model.save_pretrained(out)
        tok.save_pretrained(out)
        if cfg.task == "classification":
            (out / "labels.json").write_text(json.dumps({str(k): v for k, v in id2label.items()}, indent=1))
            write_val_predictions(out, val_recs, id2label, best_val_probs)
        if cfg.merge and cfg.method != "full":
            merged_path = str(out / "merged")
            result_model.merge_and_unload().save_pretrained(merged_path)
            tok.save_pretrained(merged_path)
        for p in (out / BEST, out / CKPT, out / (CKPT + ".old"), out / (CKPT + ".tmp")):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    result = TrainResult(
        out=str(out), model_path=str(out), merged_path=merged_path, task=cfg.task, method=cfg.method,
        initial_metrics=state.get("initial") or {}, best_metrics=state["best"] or {}, final_metrics=state["last_eval"] or {}, best_step=state["best_step"],
        steps=state["step"], epochs=round(state["epoch"] + state["micro"] / micro_per_epoch, 4),
        wall_s=time.perf_counter() - t_start, train_tokens=state["tokens"],
        tokens_per_s=state["tokens"] / max(state["train_s"], 1e-9), train_cpu_s=state.get("train_cpu_s", 0.0),
        peak_mem_mb=peak_mem_mb(),
        stop_reason=stop_reason, labels=[id2label[i] for i in sorted(id2label)] or None,
        data_stats={"train": train_store.stats, "val": val_store.stats, "train_rows_after_packing": n_train,
                    "quarantined": quarantined},
    )
    if main:
        tb.close()
        write_outputs(cfg, result, ref.path)
    return result


def write_val_predictions(out: Path, val_recs: list[dict], id2label: dict[int, str], probs: list) -> None:
    """`val_predictions.jsonl`: the saved (best) weights' class probabilities on every val row, from the
    evaluation that chose them; `evalsuite cv` reads them as out-of-fold predictions instead of predicting
    again. Not written when that evaluation is not in this process (a resumed run whose best came before)."""
    path = out / "val_predictions.jsonl"
    path.unlink(missing_ok=True)
    if len(probs) != len(val_recs):
        return
    labels = [id2label[i] for i in sorted(id2label)]
    with open(path, "w", encoding="utf-8") as f:
        for rec, p in zip(val_recs, probs, strict=True):
            f.write(json.dumps({"id": str(rec.get("id")), "label": str(rec["label"]),
                                "prediction": labels[max(range(len(p)), key=p.__getitem__)],
                                "probs": dict(zip(labels, p, strict=True))}) + "\n")


def write_outputs(cfg: TrainConfig, result: TrainResult, model_path: str) -> None:
    from schemas.manifest import RunManifest

    out = Path(cfg.out)
    (out / "summary.json").write_text(result.model_dump_json(indent=1))
    (out / "config.yaml").write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
    inputs = [p for p in (cfg.data.split_dir, cfg.data.train, cfg.data.val) if p]
    manifest = RunManifest.create("finetune run", inputs=inputs, config=cfg.model_dump(mode="json"), seed=cfg.seed,
                                  extra={"model": cfg.model, "model_path": model_path})
    (out / "manifest.json").write_text(manifest.model_dump_json(indent=1))


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *a: Any) -> None:
        return None
