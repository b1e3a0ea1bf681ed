"""Writes the PyTorch-checkpoint fixtures with torch.save itself (needs torch and safetensors):

- tests/fixtures/models/pytorch/tensors.bin: f32, f16 and bf16 tensors, a view at an offset
  into a larger storage, two names sharing one storage, an nn.Parameter, a 0-d tensor;
  tensors.json: their shapes, dtypes and values (as float32) as torch reads them back.
- tests/fixtures/models/pytorch/transposed.bin: a non-contiguous tensor (read as unsupported).
- tests/fixtures/prms/skywork-tiny-bin/: the skywork-tiny PRM saved as transformers saves a
  sharded PyTorch checkpoint (pytorch_model-0000N-of-00002.bin + pytorch_model.bin.index.json),
  with its config and tokenizer files copied.

Usage: python scripts/gen_pytorch_fixtures.py
"""
import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file

root = Path(__file__).resolve().parent.parent
out = root / "tests/fixtures/models/pytorch"
out.mkdir(parents=True, exist_ok=True)
g = torch.Generator().manual_seed(0)

big = torch.randn(6, 4, generator=g)
shared = torch.randn(3, 2, generator=g).to(torch.float16)
tensors = {
    "a.f32": torch.randn(3, 4, generator=g),
    "b.f16": torch.randn(5, generator=g).to(torch.float16),
    "c.bf16": torch.randn(2, 3, generator=g).to(torch.bfloat16),
    "view.rows": big[2:4],  # storage offset 8 into a 24-value storage
    "tied.first": shared,
    "tied.second": shared,
    "param": torch.nn.Parameter(torch.randn(2, 2, generator=g)),
    "scalar": torch.tensor(1.5),
}
torch.save(tensors, out / "tensors.bin")
back = torch.load(out / "tensors.bin", weights_only=True)
expected = {
    name: {
        "dtype": str(t.dtype).removeprefix("torch."),
        "shape": list(t.shape),
        "values": t.detach().float().flatten().tolist(),
    }
    for name, t in back.items()
}
(out / "tensors.json").write_text(json.dumps(expected, indent=1) + "\n")
torch.save({"t": torch.randn(3, 4, generator=g).t()}, out / "transposed.bin")

src = root / "tests/fixtures/prms/skywork-tiny"
dst = root / "tests/fixtures/prms/skywork-tiny-bin"
dst.mkdir(parents=True, exist_ok=True)
for f in src.iterdir():
    if f.name != "model.safetensors":
        shutil.copy(f, dst / f.name)
state = load_file(src / "model.safetensors")
names = sorted(state)
half = len(names) // 2
shards = [names[:half], names[half:]]
weight_map = {}
for i, part in enumerate(shards, 1):
    file = f"pytorch_model-{i:05d}-of-{len(shards):05d}.bin"
    torch.save({n: state[n].contiguous() for n in part}, dst / file)
    weight_map.update({n: file for n in part})
total = sum(t.numel() * t.element_size() for t in state.values())
index = {"metadata": {"total_size": total}, "weight_map": weight_map}
(dst / "pytorch_model.bin.index.json").write_text(json.dumps(index, indent=2) + "\n")
print(f"wrote {out} and {dst}")
