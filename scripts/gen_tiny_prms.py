#!/usr/bin/env python3
"""Writes tests/fixtures/prms/: tiny random process reward models with a small trained tokenizer,
and the step scores the reference formatting gives them (transformers, float32).

- tokenizer: byte-level BPE trained with PyPI `tokenizers` on the MATH-500 problems
  (../shared/data), 512 entries plus the special tokens the PRM formats need: <|endoftext|>
  (BOS of Skywork's format), <|im_start|>, <|im_end|>, <extra_0> (Qwen2.5-Math-PRM's step marker).
- skywork-tiny: Qwen2 backbone + value head (v_head.summary.weight/bias, as Skywork-o1-Open-PRM
  names it), architectures ["Qwen2ForPrmModel"]. Reference: Skywork's prepare_input (BOS text +
  question + "\n", then each step's tokens and the "\n" token, newlines inside a step replaced by
  spaces), sigmoid(v_head(last hidden state)) at every "\n" marker.

- qwen-prm-tiny: Qwen2 backbone + Qwen2.5-Math-PRM's head (score.0 Linear(h, h), ReLU, score.2
  Linear(h, 2); softmax, class 1), architectures ["Qwen2ForProcessRewardModel"]; input: the chat
  template with the system prompt, the question, and the steps joined and ended by <extra_0>.
- policy-tiny: a Qwen2 policy whose LM head gives "\n" and EOS fixed offsets, so that its random
  text comes in steps and ends (search tests).
- lm-prm-tiny: a Llama causal LM read out as an LM-token PRM: softmax over the "+" and "-"
  logits, P("+"), in RLHFlow's format (user question + " " + step 1, assistant "+", ...; read at
  the position predicting "+") and Math-Shepherd's (question + " " + steps joined by "\n", each
  ending " ки"; read at the tag).

golden.json = {"cases": [{"question", "steps", "scores": {format: [...]}, "ids": {format: [...]}}]}

Usage: python3 scripts/gen_tiny_prms.py   (needs torch, transformers, tokenizers, safetensors)
"""
import json
import os
import shutil

import torch
from safetensors.torch import save_file
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..", "tests", "fixtures", "prms")
data = os.path.join(here, "..", "..", "shared", "data")
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<extra_0>"]
STEP_TAG = "\u043a\u0438"  # Math-Shepherd's step tag "ки", one token
QWEN_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."
QWEN_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

CASES = [
    {"question": "What is $3 \\cdot 4 + 5$?",
     "steps": ["First, $3 \\cdot 4 = 12$.", "Then $12 + 5 = 17$.\nSo the sum is 17.",
               "The answer is $\\boxed{17}$."]},
    {"question": "Solve $2x = 10$ for $x$.",
     "steps": ["Divide both sides by 2.", "We get $x = 5$, so the answer is $\\boxed{5}$."]},
]


def problems():
    texts = []
    for name in sorted(os.listdir(data)):
        if name.endswith(".jsonl"):
            with open(os.path.join(data, name)) as f:
                for line in f:
                    row = json.loads(line)
                    texts.append(row.get("problem") or row.get("question") or "")
    return texts


def train_tokenizer(out):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=512 + len(SPECIALS), special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(problems(), trainer)
    tok.add_tokens([AddedToken(STEP_TAG, normalized=False, special=False)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|im_end|>",
                                   pad_token="<|endoftext|>")
    fast.chat_template = QWEN_TEMPLATE
    fast.save_pretrained(out)
    return fast


def skywork_inputs(tok, question, steps):
    """Skywork's prepare_input on steps joined by "\\n" (newlines inside a step become spaces)."""
    ids = tok.encode(tok.bos_token + question + "\n", add_special_tokens=False)
    newline = tok.encode("\n", add_special_tokens=False)[-1]
    markers = []
    for step in steps:
        ids += tok.encode(step.replace("\n", " "), add_special_tokens=False) + [newline]
        markers.append(len(ids) - 1)
    return ids, markers


def qwen_prm_inputs(tok, question, steps):
    """Qwen2.5-Math-PRM: the chat template with the system prompt, the question, and the steps
    joined and ended by <extra_0>; markers at every <extra_0>."""
    messages = [{"role": "system", "content": QWEN_SYSTEM}, {"role": "user", "content": question},
                {"role": "assistant", "content": "<extra_0>".join(steps) + "<extra_0>"}]
    text = tok.apply_chat_template(messages, tokenize=False)
    ids = tok.encode(text, add_special_tokens=False)
    marker = tok.convert_tokens_to_ids("<extra_0>")
    return ids, [i for i, t in enumerate(ids) if t == marker]


def rlhflow_inputs(tok, question, steps):
    """RLHFlow: user turn question + " " + step 1, assistant "+", user step 2, ...; the score of a
    step is read at the position that predicts its "+"."""
    conversation, markers = [], []
    for k, step in enumerate(steps):
        conversation.append({"role": "user", "content": question + " " + step if k == 0 else step})
        head = tok.encode(tok.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True),
                          add_special_tokens=False)
        markers.append(len(head) - 1)
        conversation.append({"role": "assistant", "content": "+"})
    ids = tok.encode(tok.apply_chat_template(conversation, tokenize=False), add_special_tokens=False)
    for m in markers:
        assert ids[m + 1] == tok.convert_tokens_to_ids("+"), "the marker must predict '+'"
    return ids, markers


def shepherd_inputs(tok, question, steps):
    """Math-Shepherd: question + " " + steps separated by "\n", each ending with " ки"; the score
    is read at each tag."""
    text = question + " " + "\n".join(step + " " + STEP_TAG for step in steps)
    ids = tok.encode(text, add_special_tokens=False)
    tag = tok.convert_tokens_to_ids(STEP_TAG)
    return ids, [i for i, t in enumerate(ids) if t == tag]


VERIFIER_INSTRUCTION = ("Check one step of a solution to a math problem. Answer Yes if the step is correct "
                        "and No otherwise.\n\nProblem: ")


def generative_inputs(tok, question, steps):
    """ttsearch's generative verifier: the model's chat template; the first user turn holds the
    instruction, the problem and "\n\nStep: " + step 1, later user turns "Step: " + step k;
    assistant turns answer "Yes"; the score is P("Yes") against P("No") before each answer."""
    conversation, markers = [], []
    for k, step in enumerate(steps):
        text = VERIFIER_INSTRUCTION + question + "\n\nStep: " + step if k == 0 else "Step: " + step
        conversation.append({"role": "user", "content": text})
        head = tok.encode(tok.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True),
                          add_special_tokens=False)
        markers.append(len(head) - 1)
        conversation.append({"role": "assistant", "content": "Yes"})
    ids = tok.encode(tok.apply_chat_template(conversation, tokenize=False), add_special_tokens=False)
    return ids, markers


def lm_token_scores(model, ids, markers, tok, pair=("+", "-")):
    logits = model(torch.tensor([ids])).logits[0]
    ids_pair = [tok.encode(t, add_special_tokens=False)[-1] for t in pair]
    return torch.softmax(logits[markers][:, ids_pair], dim=-1)[:, 0].tolist()


def random_init(params):
    with torch.no_grad():
        for name, p in params:
            p.normal_(0.0, 0.15)
            if name.endswith("norm.weight"):
                p.add_(1.0)


def save(out_dir, tok_dir, model, extra, architectures):
    if out_dir != tok_dir:
        shutil.copytree(tok_dir, out_dir, ignore=shutil.ignore_patterns("model.safetensors", "config.json"))
    tensors = {k: v.detach().to(torch.float32).contiguous() for k, v in model.state_dict().items()
               if not (k == "lm_head.weight" and model.config.tie_word_embeddings)}
    tensors.update({k: v.detach().clone().contiguous() for k, v in extra.items()})
    save_file(tensors, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    cfg = model.config.to_dict()
    cfg["architectures"] = architectures
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def policy_tiny(tok, small):
    """A random Qwen2 policy that writes steps: residual dimension 0 is held at a constant (the
    embedding's column 0; row 0 of every o_proj and down_proj is zero), and the LM head reads
    that dimension only for "\n" and EOS, which gives them fixed logit offsets. At temperature 0.8
    P("\n") is about 0.35 and P(EOS) about 0.02: random text cut into steps of about ten tokens,
    ending after a few steps, so that searches run several iterations."""
    config = Qwen2Config(**{**small, "max_position_embeddings": 4096}, tie_word_embeddings=False,
                         rope_theta=1e6, eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"))
    model = Qwen2ForCausalLM(config).eval()
    random_init(list(model.named_parameters()))
    newline = tok.encode("\n", add_special_tokens=False)[-1]
    with torch.no_grad():
        model.model.embed_tokens.weight[:, 0] = 8.0
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight[0, :] = 0.0
            layer.mlp.down_proj.weight[0, :] = 0.0
        model.model.norm.weight[0] = 1.0
        model.lm_head.weight[:, 0] = 0.0
        model.lm_head.weight[newline, 0] = 17.5 / 8.0
        model.lm_head.weight[config.eos_token_id, 0] = 10.5 / 8.0
    return model


def main():
    os.makedirs(root, exist_ok=True)
    for name in os.listdir(root):  # keep README.md
        if os.path.isdir(os.path.join(root, name)):
            shutil.rmtree(os.path.join(root, name))
    torch.manual_seed(20261123)
    tok_dir = os.path.join(root, "skywork-tiny")
    tok = train_tokenizer(tok_dir)
    small = dict(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512, rms_norm_eps=1e-6)
    # Skywork: Qwen2 + value head.
    skywork = Qwen2ForCausalLM(Qwen2Config(**small, tie_word_embeddings=True, rope_theta=1e6)).eval()
    v_head = torch.nn.Linear(64, 1)
    random_init(list(skywork.named_parameters()) + [("v_head", v_head.weight), ("v_head_b", v_head.bias)])
    save(tok_dir, tok_dir, skywork, {"v_head.summary.weight": v_head.weight, "v_head.summary.bias": v_head.bias},
         ["Qwen2ForPrmModel"])
    # Qwen2.5-Math-PRM: Qwen2 + score.0 Linear(h, h) -> ReLU -> score.2 Linear(h, 2).
    qwen_prm = Qwen2ForCausalLM(Qwen2Config(**small, tie_word_embeddings=True, rope_theta=1e6)).eval()
    score0, score2 = torch.nn.Linear(64, 64), torch.nn.Linear(64, 2)
    random_init(list(qwen_prm.named_parameters()) + [("s0", score0.weight), ("s0b", score0.bias),
                                                      ("s2", score2.weight), ("s2b", score2.bias)])
    save(os.path.join(root, "qwen-prm-tiny"), tok_dir, qwen_prm,
         {"score.0.weight": score0.weight, "score.0.bias": score0.bias, "score.2.weight": score2.weight,
          "score.2.bias": score2.bias}, ["Qwen2ForProcessRewardModel"])
    # LM-token PRM (RLHFlow / Math-Shepherd read-out): a Llama causal LM.
    lm_prm = LlamaForCausalLM(LlamaConfig(**small, head_dim=16, tie_word_embeddings=False)).eval()
    random_init(list(lm_prm.named_parameters()))
    save(os.path.join(root, "lm-prm-tiny"), tok_dir, lm_prm, {}, ["LlamaForCausalLM"])
    golden = []
    with torch.no_grad():
        for case in CASES:
            scores, ids = {}, {}
            i1, m1 = skywork_inputs(tok, case["question"], case["steps"])
            h = skywork.model(torch.tensor([i1])).last_hidden_state[0]
            scores["skywork"], ids["skywork"] = torch.sigmoid(v_head(h[m1]))[:, 0].tolist(), i1
            i2, m2 = qwen_prm_inputs(tok, case["question"], case["steps"])
            h = qwen_prm.model(torch.tensor([i2])).last_hidden_state[0]
            probs = torch.softmax(score2(torch.relu(score0(h[m2]))), dim=-1)
            scores["qwen-prm"], ids["qwen-prm"] = probs[:, 1].tolist(), i2
            i3, m3 = rlhflow_inputs(tok, case["question"], case["steps"])
            scores["rlhflow"], ids["rlhflow"] = lm_token_scores(lm_prm, i3, m3, tok), i3
            i4, m4 = shepherd_inputs(tok, case["question"], case["steps"])
            scores["math-shepherd"], ids["math-shepherd"] = lm_token_scores(lm_prm, i4, m4, tok), i4
            i5, m5 = generative_inputs(tok, case["question"], case["steps"])
            scores["generative"] = lm_token_scores(lm_prm, i5, m5, tok, ("Yes", "No"))
            ids["generative"] = i5
            for k in scores:
                assert len(scores[k]) == len(case["steps"]), k
            golden.append({**case, "scores": scores, "ids": ids})
    with open(os.path.join(root, "golden.json"), "w") as f:
        json.dump({"cases": golden}, f, indent=1)
    policy = policy_tiny(tok, small)
    save(os.path.join(root, "policy-tiny"), tok_dir, policy, {}, ["Qwen2ForCausalLM"])
    for d in sorted(os.listdir(root)):
        path = os.path.join(root, d)
        if os.path.isdir(path):
            size = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
            print(d, f"{size / 1e6:.2f} MB")
    print(golden[0]["scores"])


main()
