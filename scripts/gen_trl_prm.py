#!/usr/bin/env python3
"""Writes tests/fixtures/prms/trl-tiny/ and tests/fixtures/prms/trl-golden.json: a tiny random
PRM of the kind TRL's PRMTrainer trains (a Qwen2ForTokenClassification model with two labels),
saved by the trainer itself, and the step scores TRL's own tokenization gives it.

Versions matched: trl 1.13.0 (the last PyPI release with PRMTrainer, in trl.experimental.prm;
its tokenize_row builds rows as 0.13.0's did, the release that trained HuggingFaceH4's PRMs),
transformers 5.24.0, torch 2.15.0 (CPU), tokenizers 0.23.3, safetensors 0.8.0; float32.

- trl-tiny: Qwen2ForTokenClassification (width 64, 2 layers, num_labels 2; `score` Linear(64, 2)
  with bias), weights random (normal, std 0.15; norms around 1). The folder is what
  `PRMTrainer.save_model` writes (config.json, model.safetensors, training_args.bin) with the
  tokenizer files of skywork-tiny copied over the trainer's copy (the same tokenizer: BOS text
  <|endoftext|>, so the BOS path of the format is exercised). The trainer's arguments record
  step_separator "\\n", TRL's default, so a loader that ignores training_args.bin (and falls
  back to the recipe's "\\n\\n") gets other ids.
- trl-golden.json: for three questions with 1-3 steps, the input ids of
  `PRMTrainer.tokenize_row` (TRL's own code: prompt and each step tokenized alone without
  special tokens, BOS id in front, the separator's ids after every step, the label on each
  step's last token) and the softmax probability of label 1 at every labelled position of a
  full forward pass, for two separators: "trl" ("\\n", the one training_args.bin records) and
  "trl-blank-line" ("\\n\\n", search-and-learn's recipe, given as an option).
  train_on_last_step_only is checked to leave the ids unchanged.

golden = {"trl_version", "separators": {key: text}, "cases": [{"question", "steps",
          "scores": {key: [...]}, "ids": {key: [...]}, "markers": {key: [...]}}]}

Usage (needs torch, transformers, trl==1.13.0, tokenizers, safetensors, accelerate, datasets):
    python3 scripts/gen_trl_prm.py
"""
import json
import os
import shutil
import tempfile

import torch
import transformers
import trl
from datasets import Dataset
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForTokenClassification
from trl.experimental.prm import PRMConfig, PRMTrainer

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..", "tests", "fixtures", "prms")
out = os.path.join(root, "trl-tiny")
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "chat_template.jinja"]
RECORDED = "\n"
SEPARATORS = {"trl": RECORDED, "trl-blank-line": "\n\n"}

CASES = [
    {"question": "What is $3 \\cdot 4 + 5$?",
     "steps": ["First, $3 \\cdot 4 = 12$.", "Then $12 + 5 = 17$.\nSo the sum is 17.",
               "The answer is $\\boxed{17}$."]},
    {"question": "Solve $2x = 10$ for $x$.",
     "steps": ["Divide both sides by 2.", "We get $x = 5$, so the answer is $\\boxed{5}$."]},
    {"question": "Find the remainder when $17$ is divided by $5$.",
     "steps": ["$17 = 3 \\cdot 5 + 2$, so the remainder is $\\boxed{2}$."]},
]


def random_init(model):
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.normal_(0.0, 0.15)
            if name.endswith("norm.weight"):
                p.add_(1.0)


def tokenize(tok, case, separator, last_only=False):
    row = {"prompt": case["question"], "completions": case["steps"], "labels": [True] * len(case["steps"])}
    return PRMTrainer.tokenize_row(row, tok, separator, max_length=None, max_completion_length=None,
                                   train_on_last_step_only=last_only, is_eval=False)


def main():
    torch.manual_seed(20261203)
    # The tokenizer as tokenizer.json defines it (AutoTokenizer would take skywork-tiny's
    # config.json model_type, qwen2, and rebuild Qwen2's own pre-tokenizer over this toy vocabulary).
    tok = PreTrainedTokenizerFast.from_pretrained(os.path.join(root, "skywork-tiny"))
    config = Qwen2Config(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         rms_norm_eps=1e-6, rope_theta=1e6, num_labels=2)
    model = Qwen2ForTokenClassification(config).eval()
    random_init(model)
    # What PRMTrainer writes: the model, its config and the trainer's arguments.
    with tempfile.TemporaryDirectory() as tmp:
        args = PRMConfig(output_dir=tmp, step_separator=RECORDED, report_to=[], bf16=False, use_cpu=True,
                         save_strategy="no")
        data = Dataset.from_list([{"prompt": c["question"], "completions": c["steps"],
                                   "labels": [True] * len(c["steps"])} for c in CASES])
        trainer = PRMTrainer(model=model, args=args, train_dataset=data, processing_class=tok)
        saved = os.path.join(tmp, "saved")
        trainer.save_model(saved)
        if os.path.isdir(out):
            shutil.rmtree(out)
        os.makedirs(out)
        for name in ["config.json", "model.safetensors", "training_args.bin"]:
            shutil.copy(os.path.join(saved, name), os.path.join(out, name))
    for name in TOKENIZER_FILES:
        shutil.copy(os.path.join(root, "skywork-tiny", name), os.path.join(out, name))
    model = Qwen2ForTokenClassification.from_pretrained(out, dtype=torch.float32).eval()
    golden = []
    with torch.no_grad():
        for case in CASES:
            scores, ids, markers = {}, {}, {}
            for key, separator in SEPARATORS.items():
                row = tokenize(tok, case, separator)
                assert tokenize(tok, case, separator, last_only=True)["input_ids"] == row["input_ids"]
                marks = [i for i, label in enumerate(row["labels"]) if label != -100]
                assert len(marks) == len(case["steps"]), key
                logits = model(torch.tensor([row["input_ids"]])).logits[0]
                probs = torch.softmax(logits[marks], dim=-1)[:, 1]
                scores[key], ids[key], markers[key] = probs.tolist(), row["input_ids"], marks
            golden.append({**case, "scores": scores, "ids": ids, "markers": markers})
    with open(os.path.join(root, "trl-golden.json"), "w") as f:
        json.dump({"trl_version": trl.__version__, "transformers_version": transformers.__version__,
                   "torch_version": torch.__version__.split("+")[0], "separators": SEPARATORS,
                   "cases": golden}, f, indent=1)
    size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print("trl-tiny", f"{size / 1e6:.2f} MB", sorted(os.listdir(out)))
    print(golden[0]["scores"])


main()
