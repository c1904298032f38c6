"""The training loop, in one file, top to bottom: `run(cfg: TrainConfig) -> TrainResult`.

1. read the splits and reject bad data before any weights load (empty splits, wrong kind, unseen val labels,
   a max length that leaves prompts without answers);
2. tokenize (chat template, completion-only labels; for continued pre-training, text records packed into
   blocks), build the model (head, dropout, LoRA), AdamW with weight decay off for biases and norms, linear
   warmup then cosine/linear decay;
3. loop: length-grouped batches whose order depends only on (seed, epoch), gradient accumulation, clipping,
   validation every N steps or each epoch, early stopping on a chosen metric, the best weights kept;
4. checkpoints (weights or adapter, optimizer, scheduler, RNG states, data position) make `resume` exact;
   they are safetensors + JSON (finetune/checkpoint.py), so resuming never unpickles anything;
5. save the best model, metrics.jsonl, summary.json, TensorBoard logs, config.yaml and manifest.json.

Devices, mixed precision and multi-GPU go through accelerate, so `accelerate launch -m finetune run ...`
works unchanged: each process takes its share of every global batch (batch_size * world_size rows, cut as one
process would cut them), gradients are averaged by DDP, the logged train loss is the mean over processes, and
only the main process writes (docs/scaling-training.md).
"""

from __future__ import annotations

import json
import math
import random
import resource
import shutil
import time
from pathlib import Path
from typing import Any

import yaml

from common.precision import resolve as resolve_precision
from finetune import data as D
from finetune import metrics_log
from finetune.checkpoint import (
    CKPT,
    load_checkpoint,
    load_weights,
    read_trainer_state,
    rng_state,
    save_checkpoint,
    save_weights,
)
from finetune.errors import FinetuneError
from finetune.scoring import macro_f1
from schemas.configs.train import TrainConfig, TrainResult

BEST = "best.safetensors"
# Refuse SFT data when more than this share of rows would lose every answer token to truncation.
MAX_NO_ANSWER_SHARE = 0.5


# ------------------------------------------------------------------------------------------------ data
def read_splits(cfg: TrainConfig) -> tuple[list[dict], list[dict], dict[str, dict[str, int]]]:
    """Train and val records from a split folder, train/val paths, or train alone with a seeded hold-out,
    plus the loader's quarantine counts per split."""
    d = cfg.data
    kind = d.kind or {"classification": "classification", "text": "text"}.get(cfg.task)
    if d.split_dir:
        train_path, val_path = D.find_split(d.split_dir, "train"), D.find_split(d.split_dir, "val")
    elif d.train:
        train_path, val_path = d.train, d.val
    else:
        raise FinetuneError(
            "no training data given", fix="pass --data SPLIT_DIR, or --train FILE [--val FILE]"
        )
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
    """Refuse SFT data whose answers mostly fall past max_length; judged on the rows tokenized so far (at
    least
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
    groups = [
        {"params": decay, "weight_decay": cfg.optim.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
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


def _forget_other_precision(mixed: str) -> None:
    """Let one process train in another number format than its previous run (tests, a sweep over precision).

    accelerate keeps one mixed-precision setting per process and refuses a second; its per-run part is
    dropped here when it differs (the process group, in `PartialState`, is kept).
    """
    from accelerate.state import AcceleratorState

    held = AcceleratorState._shared_state.get("_mixed_precision")
    if held is not None and held != mixed:
        AcceleratorState._reset_state()


def evaluate(model: Any, examples: list[dict], cfg: TrainConfig, pad_id: int, device: Any,
             probs_out: list | None = None) -> dict[str, float]:
    """Validation loss plus accuracy/macro-F1 (classification) or token perplexity (SFT, answer tokens only).

    Classification: when `probs_out` is a list, it receives each example's class probabilities, in the order
    of `examples`.
    """
    import torch

    from common.progress import track

    model.eval()
    bs = cfg.eval_batch_size or 2 * cfg.batch_size
    batches = D.length_grouped_batches([len(e["input_ids"]) for e in examples], bs, 0, shuffle=False)
    total, count, preds, golds, probs = 0.0, 0, [], [], {}
    with torch.no_grad():
        for idx in track(batches, f"evaluate ({len(examples):,} rows)", unit="batches", enabled=cfg.progress):
            batch = D.collate([examples[i] for i in idx], pad_id)
            batch.pop("n_tokens")
            batch = {k: v.to(device) for k, v in batch.items()}
            loss, logits = compute_loss(model, batch, cfg.task)
            n = len(idx) if cfg.task == "classification" else int((batch["labels"][:, 1:] != D.IGNORE).sum())
            total += float(loss) * n
            count += n
            if logits is not None:
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
        out["macro_f1"] = macro_f1(golds, preds)  # evalsuite's f1_macro is the same function
    else:
        out["perplexity"] = math.exp(min(out["loss"], 50.0))
    return out


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
    from accelerate.utils import broadcast_object_list, gather_object, set_seed

    from common.weights import safe_weights
    from finetune.card import write_model_card
    from finetune.lazy import BatchOrder, ExampleStore, grouped_batches
    from finetune.models import load_for_training, load_tokenizer, quiet_transformers, resolve_model
    from finetune.progress import TrainProgress

    t_start = time.perf_counter()
    quiet_transformers()
    out = Path(cfg.out)

    # 1. data, validated before any weights load
    train_recs, val_recs, quarantined = read_splits(cfg)
    D.validate_records(train_recs, val_recs, cfg.task)
    known = {"classification": ("loss", "accuracy", "macro_f1"), "sft": ("loss", "perplexity"),
             "text": ("loss", "perplexity")}[cfg.task]
    if cfg.early_stopping.metric not in known:
        raise FinetuneError(
            f"early_stopping.metric={cfg.early_stopping.metric!r} is not computed for task={cfg.task}",
            fix=f"use one of {', '.join(known)}",
        )
    id2label, label2id = D.label_maps(train_recs) if cfg.task == "classification" else ({}, {})
    weights = (
        D.class_weight_vector(train_recs, label2id, cfg.class_weights)
        if cfg.task == "classification"
        else None
    )
    ref = resolve_model(cfg.model)
    safe_weights(ref.path, allow_pickle=cfg.allow_pickle)  # refuse pickle-only weights before any work
    # what must not change between a run and its resumption (progress bars and the resume flag may)
    fingerprint = cfg.model_dump(mode="json", exclude={"resume", "progress", "allow_pickle"})
    if cfg.resume:  # a missing, pickled or mismatched checkpoint is refused before the weights load
        changed = sorted(
            k for k, v in fingerprint.items() if read_trainer_state(out).get("config", {}).get(k) != v
        )
        if changed:
            raise FinetuneError(
                f"--resume with a config that differs from the checkpoint's in: {', '.join(changed)}",
                fix="resume with the same settings (see OUT/checkpoint/trainer_state.json), or start afresh",
            )
    tok = load_tokenizer(ref.path)
    # Training rows are tokenized when a batch first needs them (finetune.lazy): a run of a few steps over a
    # large split pays for the rows it sees, not for the whole split. Val is evaluated whole, so tokenized
    # now.
    kw = {"label2id": label2id, "loss_on": cfg.loss_on}
    # continued pre-training: documents packed into max_length blocks, every token a target
    if cfg.task == "text":
        # packing places every document, so the whole split is tokenized up front (no lazy store)
        blocks, train_stats = D.pack_text_blocks(train_recs, tok, cfg.max_length)
        val_ex, val_stats = D.pack_text_blocks(val_recs, tok, cfg.max_length)
        n_train, get_example, length_of = (
            len(blocks),
            blocks.__getitem__,
            (lambda i: len(blocks[i]["input_ids"])),
        )
    else:
        train_store = ExampleStore(train_recs, tok, cfg.task, cfg.max_length, **kw)
        val_store = ExampleStore(val_recs, tok, cfg.task, cfg.max_length, **kw)
        val_ex = val_store.all()
        train_stats, val_stats = train_store.stats, val_store.stats
        if cfg.packing:  # packing places every example, so it needs all of them
            packed = D.pack_examples(train_store.all(), cfg.max_length)
            n_train, get_example, length_of = (
                len(packed),
                packed.__getitem__,
                (lambda i: len(packed[i]["input_ids"])),
            )
        else:
            n_train, get_example, length_of = len(train_store), train_store.get, train_store.length

    def epoch_order(epoch: int, rank: int = 0, world: int = 1, limit: int | None = None) -> BatchOrder:
        # the order of an epoch depends only on (seed, epoch): resuming at (epoch, micro) replays it exactly
        # and on the global batch size: N processes at batch B cut the batches one process at N*B cuts, and
        # each takes its share of every batch, so both runs train on the same rows at every step
        return BatchOrder(grouped_batches(n_train, cfg.batch_size * world, cfg.seed * 1000 + epoch, length_of,
                                          group_by_length=cfg.group_by_length), rank, world, limit)

    epoch_order(0).available(0)  # the first mega-batch, so bad lengths are refused before any weights load
    check_lengths(cfg, train_stats)
    if not val_ex:
        raise FinetuneError(
            "no validation row keeps an answer token at this max_length", fix="raise --max-length"
        )

    # 2. model, optimizer, schedule
    set_seed(cfg.seed)
    cuda = torch.cuda.is_available()
    precision = resolve_precision(cfg.precision, cuda=cuda)  # bf16 also on a CPU that computes it natively
    mixed = "no" if precision == "fp32" else precision
    _forget_other_precision(mixed)
    acc = Accelerator(mixed_precision=mixed, cpu=not cuda)
    main = acc.is_main_process  # the only process that writes to `out`
    if main:
        if not cfg.resume and (out / CKPT / "trainer_state.json").is_file():
            # a fresh run must not be mistaken for the continuation of an old one; only a datavet checkpoint
            # (it has the trainer's state file) is removed
            shutil.rmtree(out / CKPT)
        out.mkdir(parents=True, exist_ok=True)
    # continued pre-training trains the same causal-LM model as SFT; only the data and its labels differ
    model, _ = load_for_training(
        ref.path,
        "sft" if cfg.task == "text" else cfg.task,
        method=cfg.method,
        lora=cfg.lora,
        dropout=cfg.dropout,
        id2label=id2label,
        allow_pickle=cfg.allow_pickle,
    )
    model.train()
    optimizer = build_optimizer(model, cfg)
    world, rank = acc.num_processes, acc.process_index
    # global batches of batch_size * world rows; a tail too short to give every process a row is skipped
    full, tail = divmod(n_train, cfg.batch_size * world)
    micro_per_epoch = full + (tail >= world)
    if micro_per_epoch == 0:
        raise FinetuneError(
            f"{n_train} training rows make no batch on {world} processes", fix="lower --batch-size"
        )
    steps_per_epoch = math.ceil(micro_per_epoch / cfg.grad_accum)
    total_steps = cfg.max_steps or max(1, math.ceil(cfg.epochs * steps_per_epoch))
    warmup = int(cfg.optim.warmup * total_steps) if cfg.optim.warmup < 1 else int(cfg.optim.warmup)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_lambda(total_steps, warmup, cfg.optim.schedule)
    )
    model, optimizer = acc.prepare(model, optimizer)
    device = acc.device
    cw = torch.tensor(weights, device=device) if weights else None
    pad_id = tok.pad_token_id
    eval_model = acc.unwrap_model(model)  # every rank evaluates all of val: no collective inside eval

    state: dict[str, Any] = {
        "step": 0,
        "epoch": 0,
        "micro": 0,
        "tokens": 0,
        "train_s": 0.0,
        "best": None,
        "best_step": None,
        "bad_evals": 0,
        "last_eval": None,
        "stop": None,
        "world": world,
    }
    log_file = out / metrics_log.LOG_NAME
    if cfg.resume:
        state = load_checkpoint(out, acc.unwrap_model(model), optimizer, scheduler, rank)
        if state.get("world", 1) != world:  # each process's batches and RNG stream depend on the world size
            raise FinetuneError(
                f"the checkpoint was written by {state.get('world', 1)} process(es), this run has {world}",
                fix="resume with the number of processes the run started with",
            )
        # the steps after the checkpoint are replayed: drop their first logging
        if main and log_file.exists():
            metrics_log.truncate_after(log_file, state["step"])
    state["config"] = fingerprint
    mode = cfg.early_stopping.resolved_mode()
    if main:
        from torch.utils.tensorboard import SummaryWriter

        # purge_step: TensorBoard drops the killed run's events from the first replayed step on, as
        # metrics.jsonl does
        if cfg.resume:
            _after_earlier_event_files(out / "tb")
        tb = SummaryWriter(str(out / "tb"), purge_step=state["step"] + 1 if cfg.resume else None)
        if not cfg.resume:
            log_file.write_text("")

    def log(event: dict) -> None:
        if main:  # append and close per event: a killed run leaves every line it logged
            metrics_log.append_event(log_file, event)
            for k, v in event.items():
                if isinstance(v, (int, float)) and k not in ("step", "epoch"):
                    tb.add_scalar(f"{event['split']}/{k}", v, event["step"])

    # class probabilities of the best (saved) weights on val, for val_predictions.jsonl
    best_val_probs: list = []

    def validate() -> None:
        probs: list | None = [] if cfg.task == "classification" else None
        with acc.autocast():  # validation computes in the training's precision
            metrics = evaluate(eval_model, val_ex, cfg, pad_id, device, probs)
        # the main process's numbers decide for all: a last-bit difference must not split the stop
        if world > 1:
            metrics = broadcast_object_list([metrics])[0]
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
                save_weights(eval_model, out / BEST)
        else:
            state["bad_evals"] += 1
            if cfg.early_stopping.patience and state["bad_evals"] >= cfg.early_stopping.patience:
                state["stop"] = "early_stopping"

    if cfg.eval_before and not cfg.resume:  # the base model's score, for "did training help at all"
        with acc.autocast():
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
            # the epoch's last step may be short
            n_micro = min(cfg.grad_accum, micro_per_epoch - state["micro"])
            # SFT rows left with no answer token are left out of their batches, so an epoch can end a batch
            # early
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
                # the train loss of the whole batch: the mean of the processes' equal-sized shares
                if world > 1:
                    window_loss = float(
                        acc.reduce(
                            torch.tensor(window_loss, dtype=torch.float64, device=device), reduction="mean"
                        )
                    )
                log(
                    {
                        "step": state["step"],
                        "epoch": round(state["epoch"] + state["micro"] / micro_per_epoch, 4),
                        "split": "train",
                        "loss": window_loss / window_n,
                        "lr": lr,
                        "tokens_per_s": tps,
                    }
                )
                window_loss, window_n = 0.0, 0
            if cfg.eval_every and state["step"] % cfg.eval_every == 0:
                validate()
            if cfg.checkpoint_every and state["step"] % cfg.checkpoint_every == 0:
                # every process's RNG goes into the checkpoint (dropout draws differ per process); main writes
                rngs = gather_object([rng_state()]) if world > 1 else [rng_state()]
                if main:
                    # events up to this step are on disk before the checkpoint that resumes after them
                    tb.flush()
                    save_checkpoint(out, acc.unwrap_model(model), optimizer, scheduler, state, rngs)
        if state["micro"] >= micro_per_epoch:
            state["epoch"] += 1
            state["micro"] = 0
            if not cfg.eval_every and state["stop"] is None:
                validate()
    progress.stop()
    stop_reason = state["stop"] or (
        "max_steps" if cfg.max_steps and state["step"] >= cfg.max_steps else "epochs"
    )
    if state.get("eval_step") != state["step"]:
        validate()  # the final metrics always describe the final weights

    # 4. save the best weights (not the last), plus labels, merged weights, summary, config, manifest
    acc.wait_for_everyone()
    result_model = acc.unwrap_model(model)
    merged_path = None
    if main:
        if (out / BEST).exists():
            load_weights(result_model, out / BEST)
        result_model.save_pretrained(out)
        tok.save_pretrained(out)
        if cfg.task == "classification":
            from curate import write_text

            write_text(json.dumps({str(k): v for k, v in id2label.items()}, indent=1), out / "labels.json")
            write_val_predictions(out, val_recs, id2label, best_val_probs)
        if cfg.merge and cfg.method != "full":
            merged_path = str(out / "merged")
            result_model.merge_and_unload().save_pretrained(merged_path)
            tok.save_pretrained(merged_path)
        for p in (out / BEST, out / CKPT, out / (CKPT + ".old"), out / (CKPT + ".tmp")):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    result = TrainResult(
        out=str(out),
        model_path=str(out),
        merged_path=merged_path,
        task=cfg.task,
        kind=cfg.kind,
        method=cfg.method,
        precision=precision,
        initial_metrics=state.get("initial") or {},
        best_metrics=state["best"] or {},
        final_metrics=state["last_eval"] or {},
        best_step=state["best_step"],
        steps=state["step"],
        epochs=round(state["epoch"] + state["micro"] / micro_per_epoch, 4),
        wall_s=time.perf_counter() - t_start,
        train_tokens=state["tokens"],
        tokens_per_s=state["tokens"] / max(state["train_s"], 1e-9),
        train_cpu_s=state.get("train_cpu_s", 0.0),
        peak_mem_mb=peak_mem_mb(),
        stop_reason=stop_reason,
        labels=[id2label[i] for i in sorted(id2label)] or None,
        data_stats={
            "train": train_stats,
            "val": val_stats,
            "train_rows_after_packing": n_train,
            "quarantined": quarantined,
        },
    )
    if main:
        tb.close()
        write_outputs(cfg, result, ref.path)
        write_model_card(out, cfg, result, ref)
    return result


def _after_earlier_event_files(tb_dir: Path) -> None:
    """Wait (at most about a second) until a new event file would sort after the ones already in `tb_dir`.

    TensorBoard reads a run's event files in name order,
    `events.out.tfevents.<whole seconds>.<host>.<pid>...`,
    and applies a resume's purge_step to the files before it. A run killed and resumed within the same second
    would otherwise sort by pid, put the resumed file first, and show the replayed steps out of order.
    """
    stamps = [int(p.name.split(".")[3]) for p in tb_dir.glob("events.out.tfevents.*")
              if len(p.name.split(".")) > 3 and p.name.split(".")[3].isdigit()]
    if stamps:
        while int(time.time()) <= max(stamps):
            time.sleep(0.05)


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
    from curate import write_text
    from schemas.manifest import RunManifest

    out = Path(cfg.out)
    write_text(result.model_dump_json(indent=1), out / "summary.json")  # atomic: never half a summary
    write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False), out / "config.yaml")
    inputs = [p for p in (cfg.data.split_dir, cfg.data.train, cfg.data.val) if p]
    manifest = RunManifest.create(
        "finetune run",
        inputs=inputs,
        config=cfg.model_dump(mode="json"),
        seed=cfg.seed,
        extra={"model": cfg.model, "model_path": model_path},
    )
    write_text(manifest.model_dump_json(indent=1), out / "manifest.json")


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *a: Any) -> None:
        return None
