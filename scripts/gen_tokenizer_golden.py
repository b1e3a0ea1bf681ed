#!/usr/bin/env python3
"""Writes tests/fixtures/tokenizers/golden.json: token ids and rendered chat prompts from the
reference implementations on the real tokenizer files (scripts/fetch_tokenizers.sh):

- for Qwen2.5, Llama 3.2 and Gemma 3 (tokenizer.json + tokenizer_config.json): ids of every text
  case from PyPI `tokenizers` (Tokenizer.from_file) and from transformers' AutoTokenizer, with
  and without special tokens, and the decoded text;
- chat prompts from transformers' apply_chat_template: with a generation prompt, multi-turn, and
  continuing a partial assistant message (transformers' continue_final_message, and for Llama
  also through search-and-learn's custom template, which does not trim the message);
- when GGUF_PATH is given (the Gemma 3 270M GGUF): transformers' tokenizer built from the GGUF's
  vocabulary (AutoTokenizer.from_pretrained(gguf_file=...)), ids of every text case.

Usage: python3 scripts/gen_tokenizer_golden.py TOKENIZERS_DIR [GGUF_PATH]
  (needs tokenizers and transformers; no torch)
"""
import json
import os
import sys
import tempfile

from tokenizers import Tokenizer
from transformers import AutoTokenizer

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "tokenizers")
tokenizers_dir = sys.argv[1]
gguf_path = sys.argv[2] if len(sys.argv) > 2 else None

TEXTS = [
    "",
    "What is $1+1$?",
    "Let $x^2+\\frac{1}{2}=3$. Then $x = \\pm\\sqrt{\\frac{5}{2}}$.",
    "## Step 1: Simplify\n\nWe have $\\dfrac{3}{4} \\cdot 12 = 9$.\n\n",
    "## Step 2: Conclude\nTherefore, the final answer is: $\\boxed{9}$. I hope it is correct.",
    "\n\n",
    "a\n\n\nb\n \n\tc",
    "   leading and trailing spaces   ",
    "Ünïcödé: π ≈ 3.14159, ∑_{k=1}^{n} k = n(n+1)/2, 数学, 😀👍🏽",
    "12345678901234567890 + 0.000001 = ?",
    "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
    "It's a cat's toy; they'll say we'd've done it.",
    "<|im_start|>user\nhi<|im_end|>",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>",
    "<start_of_turn>user\nhi<end_of_turn>",
    "x<bos>y",
]

SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."
PROBLEM = "Compute $\\dbinom{8}{4}$."
PARTIAL = "## Step 1: Recall the formula\n$\\dbinom{n}{k} = \\frac{n!}{k!(n-k)!}$.\n\n"


def sal_llama_template(official):
    """search-and-learn's Llama template (src/sal/config.py): the model's own template without
    the BOS line (vLLM adds BOS when it tokenizes) and without trimming message contents."""
    sal = official.replace("{{- bos_token }}\n", "", 1).replace("message['content'] | trim +", "message['content'] +")
    assert sal.count("| trim +") == 0 and "bos_token" not in sal, "the Llama template changed"
    return sal


def chats(tok, name):
    kwargs = {"date_string": "26 Jul 2024"} if name.startswith("llama") else {}
    cases = []
    conversations = [
        ("system_user_generation", [{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROBLEM}],
         dict(add_generation_prompt=True)),
        ("user_generation", [{"role": "user", "content": PROBLEM}], dict(add_generation_prompt=True)),
        ("multi_turn", [{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROBLEM},
                        {"role": "assistant", "content": "It is 70."}, {"role": "user", "content": "Why?"}],
         dict(add_generation_prompt=False)),
        ("continue_partial", [{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROBLEM},
                              {"role": "assistant", "content": PARTIAL}],
         dict(continue_final_message=True)),
    ]
    for case, messages, options in conversations:
        text = tok.apply_chat_template(messages, tokenize=False, **options, **kwargs)
        ids = tok(text, add_special_tokens=False)["input_ids"]
        entry = {"case": case, "messages": messages, "add_generation_prompt": options.get("add_generation_prompt", False),
                 "continue_final_message": options.get("continue_final_message", False), "text": text, "ids": ids,
                 "extra": kwargs}
        if case == "continue_partial" and name.startswith("llama"):
            # The model's template trims the message; search-and-learn's does not (and has no BOS).
            sal = tok.apply_chat_template(messages, tokenize=False, chat_template=sal_llama_template(tok.chat_template),
                                          continue_final_message=True, **kwargs)
            entry["sal_text"] = sal
        cases.append(entry)
    return cases


def main():
    out = {"texts": TEXTS, "tokenizers": {}}
    for name in ("qwen2.5", "llama3.2", "gemma3"):
        path = os.path.join(tokenizers_dir, name)
        fast = Tokenizer.from_file(os.path.join(path, "tokenizer.json"))
        tok = AutoTokenizer.from_pretrained(path)
        entry = {"encode": [], "chat": chats(tok, name), "bos_token": tok.bos_token, "eos_token": tok.eos_token}
        for text in TEXTS:
            plain = tok(text, add_special_tokens=False)["input_ids"]
            special = tok(text, add_special_tokens=True)["input_ids"]
            assert fast.encode(text, add_special_tokens=False).ids == plain, (name, text)
            entry["encode"].append({"text": text, "ids": plain, "ids_with_special": special,
                                    "decoded": tok.decode(plain, skip_special_tokens=True)})
        out["tokenizers"][name] = entry
        print(name, "ok")
    if gguf_path:
        with tempfile.TemporaryDirectory() as tmp:
            os.symlink(os.path.abspath(gguf_path), os.path.join(tmp, "model.gguf"))
            tok = AutoTokenizer.from_pretrained(tmp, gguf_file="model.gguf")
            out["gguf_gemma3"] = {
                "file": os.path.basename(gguf_path),
                "encode": [{"text": t, "ids": tok(t, add_special_tokens=False)["input_ids"],
                            "ids_with_special": tok(t, add_special_tokens=True)["input_ids"]} for t in TEXTS],
            }
        print("gguf ok")
    with open(os.path.join(root, "golden.json"), "w") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)


main()
