#!/usr/bin/env python3
"""Train karpathy/makemore's Transformer for a fixed number of steps and report its test loss and
training throughput, without changing a line of makemore.py.

makemore.py is NOT part of this repository and nothing here fetches it: give its path. The copy
measured in results/benchmarks/amd-epyc/lm-makemore.md is github.com/karpathy/makemore at commit
988aa59e4d8fefa526d06f3b453ad116258398d4 (2022-11-20, "tune description of the repo wrt references").

What this driver does, and why:
  * imports makemore.py as a module (its training loop sits under `if __name__ == '__main__'`, so
    importing runs only its definitions) and uses makemore's own Transformer, ModelConfig,
    CharDataset, create_datasets, InfiniteDataLoader and evaluate;
  * stubs `torch.utils.tensorboard` (makemore imports SummaryWriter; tensorboard is not installed,
    and the writer only logs);
  * repeats makemore's training loop step for step (seed, then datasets, then model, AdamW with
    betas 0.9/0.99 and eps 1e-8, the infinite random-with-replacement loader, forward, zero_grad,
    backward, step) minus its printing, sampling and checkpointing, so it can stop at exactly K
    updates (makemore's own "step 2000" log line comes after 2,001 updates) and time the loop;
  * --split makemore: makemore's split (torch.randperm after torch.manual_seed(seed), last 1,000
    words the test set: the split changes with --seed). --split files --train F --test F: the
    split given (e.g. this repository's, written by SplitExport/); vocabulary and block size come
    from train ∪ test, as makemore builds them from the whole file.
  * test loss: makemore's evaluate(model, test_dataset, batch_size=100, max_batches=None), i.e. the
    mean over batches of 100 test words of each batch's mean cross-entropy per predicted character
    (end token included). makemore's own log uses max_batches=10, which (since it stops after
    batch index 10) already covers all 1,000 test words, so this is the number makemore prints.
    Also reported: test_loss_per_char, the exact mean over every predicted test character (the
    definition `collapse run lm` uses for test_loss); the two differ only in how batches are weighted.
    Evaluation saves and restores torch's RNG state, so evaluating at intermediate steps
    (--eval-at) does not change the training run.
  * throughput: wall time of the training loop from the end of step --warmup to the end of step K
    (startup, first steps and evaluation excluded); tokens/s = batch × block size × steps/s.
  * threads: --threads T sets OMP_NUM_THREADS and MKL_NUM_THREADS before torch is imported, and
    torch.set_num_threads(T); OPENBLAS_NUM_THREADS is --blas-threads (default T). Debian's torch
    runs its own OpenMP pool beside OpenBLAS's pthread pool: with both at 2 on 2 cores they
    oversubscribe the cores. --num-workers defaults to 0 (batches built in the
    main process); makemore's default is 4 worker processes, which on a 2-core machine compete with
    the training threads.

Output: key=value lines on stdout (and --json FILE), e.g. test_loss@2000=2.08... steps_per_s=...
"""
import argparse
import importlib.util
import json
import os
import sys
import time
import types


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("makemore", help="path to karpathy/makemore's makemore.py")
    p.add_argument("--split", choices=["makemore", "files"], default="makemore")
    p.add_argument("--input-file", help="--split makemore: the words file (makemore's names.txt)")
    p.add_argument("--train", help="--split files: training words, one per line")
    p.add_argument("--test", help="--split files: test words, one per line")
    p.add_argument("--steps", type=int, required=True, help="optimizer updates")
    p.add_argument("--eval-at", default="", help="comma-separated step counts (<= --steps) to also evaluate at")
    p.add_argument("--seed", type=int, default=3407, help="torch.manual_seed (makemore's default 3407)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--blas-threads", type=int, help="OPENBLAS_NUM_THREADS (default: --threads)")
    p.add_argument("--num-workers", type=int, default=0)
    p.add_argument("--warmup", type=int, default=20, help="steps not timed")
    p.add_argument("--no-eval", action="store_true", help="skip the final evaluation (speed runs)")
    p.add_argument("--json", help="also write the results here")
    # makemore's model and optimizer options, with makemore's defaults
    p.add_argument("--type", default="transformer")
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=64)
    p.add_argument("--n-embd2", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=5e-4)
    p.add_argument("--weight-decay", type=float, default=0.01)
    a = p.parse_args()
    if a.split == "makemore" and not a.input_file:
        p.error("--split makemore needs --input-file")
    if a.split == "files" and not (a.train and a.test):
        p.error("--split files needs --train and --test")
    if a.type != "transformer":
        p.error("only --type transformer is wired up")
    return a


def main():
    a = parse_args()
    blas_threads = a.blas_threads or a.threads
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(a.threads)
    os.environ["OPENBLAS_NUM_THREADS"] = str(blas_threads)

    import torch  # after the thread variables: OpenBLAS and OpenMP read them when loaded

    torch.set_num_threads(a.threads)

    # makemore does `from torch.utils.tensorboard import SummaryWriter`; tensorboard is absent.
    class SummaryWriter:
        def __init__(self, *args, **kwargs): pass
        def add_scalar(self, *args, **kwargs): pass
        def flush(self): pass
        def close(self): pass
    stub = types.ModuleType("torch.utils.tensorboard")
    stub.SummaryWriter = SummaryWriter
    sys.modules["torch.utils.tensorboard"] = stub

    spec = importlib.util.spec_from_file_location("makemore", a.makemore)
    mm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mm)
    mm.args = types.SimpleNamespace(device="cpu")  # makemore's evaluate reads the global `args.device`

    # makemore's order: seed, datasets (its split draws torch.randperm), model, optimizer, loader.
    torch.manual_seed(a.seed)
    if a.split == "makemore":
        train_dataset, test_dataset = mm.create_datasets(a.input_file)
    else:
        def words(path):
            with open(path, "r") as f:
                return [w for w in (line.strip() for line in f.read().splitlines()) if w]
        train_words, test_words = words(a.train), words(a.test)
        everything = train_words + test_words
        chars = sorted(set("".join(everything)))
        max_word_length = max(len(w) for w in everything)
        train_dataset = mm.CharDataset(train_words, chars, max_word_length)
        test_dataset = mm.CharDataset(test_words, chars, max_word_length)
    vocab_size = train_dataset.get_vocab_size()
    block_size = train_dataset.get_output_length()
    config = mm.ModelConfig(vocab_size=vocab_size, block_size=block_size, n_layer=a.n_layer,
                            n_head=a.n_head, n_embd=a.n_embd, n_embd2=a.n_embd2)
    model = mm.Transformer(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=a.learning_rate, weight_decay=a.weight_decay,
                                  betas=(0.9, 0.99), eps=1e-8)
    batch_loader = mm.InfiniteDataLoader(train_dataset, batch_size=a.batch_size, pin_memory=True,
                                         num_workers=a.num_workers)

    def evaluate():
        state = torch.get_rng_state()
        mean_of_batches = mm.evaluate(model, test_dataset, batch_size=100, max_batches=None)
        model.eval()
        total, count = 0.0, 0
        with torch.inference_mode():
            for lo in range(0, len(test_dataset), 100):
                X, Y = zip(*(test_dataset[i] for i in range(lo, min(lo + 100, len(test_dataset)))))
                X, Y = torch.stack(X), torch.stack(Y)
                logits, _ = model(X, Y)
                total += torch.nn.functional.cross_entropy(logits.view(-1, logits.size(-1)), Y.view(-1),
                                                           ignore_index=-1, reduction="sum").item()
                count += int((Y != -1).sum())
        model.train()
        torch.set_rng_state(state)
        return mean_of_batches, total / count

    eval_at = sorted({int(s) for s in a.eval_at.split(",") if s.strip()} | (set() if a.no_eval else {a.steps}))
    results = {
        "makemore": os.path.abspath(a.makemore), "split": a.split, "seed": a.seed, "steps": a.steps,
        "threads": a.threads, "blas_threads": blas_threads, "num_workers": a.num_workers, "torch": torch.__version__,
        "train_words": len(train_dataset), "test_words": len(test_dataset),
        "vocab_size": vocab_size, "block_size": block_size, "batch_size": a.batch_size,
        "params": sum(p.numel() for p in model.parameters()),
    }
    blas = sorted({line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.lower()})
    results["blas_libraries"] = ";".join(blas)

    timed = 0.0
    t_start = None
    for step in range(1, a.steps + 1):
        X, Y = batch_loader.next()
        logits, loss = model(X, Y)
        model.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step == a.warmup:
            t_start = time.perf_counter()
        if step in eval_at:
            if t_start is not None:
                timed += time.perf_counter() - t_start
            results[f"train_batch_loss@{step}"] = loss.item()
            results[f"test_loss@{step}"], results[f"test_loss_per_char@{step}"] = evaluate()
            print(f"step {step}: test_loss={results[f'test_loss@{step}']:.5f} "
                  f"test_loss_per_char={results[f'test_loss_per_char@{step}']:.5f}", file=sys.stderr, flush=True)
            if t_start is not None:
                t_start = time.perf_counter()
    if t_start is not None and a.steps not in eval_at:
        timed += time.perf_counter() - t_start
    if a.steps > a.warmup:
        steps_per_s = (a.steps - a.warmup) / timed
        results.update(timed_steps=a.steps - a.warmup, timed_seconds=timed, steps_per_s=steps_per_s,
                       tokens_per_s=steps_per_s * a.batch_size * block_size)
    for k, v in results.items():
        print(f"{k}={v}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
