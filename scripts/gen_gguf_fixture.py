#!/usr/bin/env python3
"""Writes tests/fixtures/gguf/types.gguf and types.json with PyPI `gguf` (the reference).

types.gguf holds one metadata key of every GGUF value type (nested arrays included) and, for
every GGML tensor type ttsearch reads, a 2 x 512 tensor named after the type. Types gguf-py can
quantize are quantized from random floats; for the K-quants (gguf-py only dequantizes them) the
blocks are random bytes with finite f16 scales. types.json holds the metadata as written and each
tensor's values as gguf-py's `dequantize` computes them: the expected output of ttsearch's reader.

Usage: python3 scripts/gen_gguf_fixture.py   (needs: pip install gguf numpy)
"""
import json
import os

import numpy as np
from gguf import GGUFReader, GGUFWriter, quants
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType as T

out_dir = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "gguf")
path = os.path.join(out_dir, "types.gguf")
rng = np.random.default_rng(20261123)
ROWS, COLS = 2, 512

writer = GGUFWriter(path, arch="ttsearch-test")
metadata = {
    "test.u8": ("uint8", 200), "test.i8": ("int8", -100), "test.u16": ("uint16", 60000),
    "test.i16": ("int16", -30000), "test.u32": ("uint32", 4000000000), "test.i32": ("int32", -2000000000),
    "test.f32": ("float32", 0.25), "test.bool": ("bool", True), "test.string": ("string", "ünïcode \\boxed{x}"),
    "test.u64": ("uint64", 2**63 + 5), "test.i64": ("int64", -(2**62)), "test.f64": ("float64", 1e-300),
}
for key, (kind, value) in metadata.items():
    getattr(writer, f"add_{kind}")(key, value)
writer.add_array("test.array_i32", [1, -2, 3])
writer.add_array("test.array_str", ["a", "bc", ""])
writer.add_array("test.array_nested", [[1, 2], [3]])

def finite_f16(shape):
    return rng.uniform(-0.05, 0.05, size=shape).astype(np.float16).view(np.uint8)

# Offsets of the f16 fields (d, dmin) inside each K-quant block, from ggml's block layouts.
f16_fields = {T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208]}
expected = {}
for ty in [T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K]:
    block, size = GGML_QUANT_SIZES[ty]
    if ty in f16_fields:
        n_blocks = ROWS * COLS // block
        raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
        for off in f16_fields[ty]:
            raw[:, off:off + 2] = finite_f16((n_blocks, 1)).reshape(n_blocks, 2)
        data = raw.reshape(ROWS, COLS // block * size)
    elif ty == T.F32:
        data = rng.standard_normal((ROWS, COLS)).astype(np.float32)
    elif ty == T.F16:
        data = rng.standard_normal((ROWS, COLS)).astype(np.float16)
    else:
        data = quants.quantize(rng.standard_normal((ROWS, COLS)).astype(np.float32), ty)
    writer.add_tensor(ty.name.lower(), data, raw_dtype=ty)
    values = quants.dequantize(data.view(np.uint8) if ty not in (T.F32, T.F16) else data, ty)
    expected[ty.name.lower()] = {
        "type": ty.name, "dims": [COLS, ROWS], "values": [float(v) for v in np.asarray(values, dtype=np.float32).reshape(-1)],
    }

writer.write_header_to_file()
writer.write_kv_data_to_file()
writer.write_tensors_to_file()
writer.close()

# Read back with gguf-py's own reader as a sanity check of what was written.
reader = GGUFReader(path)
assert len(reader.tensors) == len(expected)
meta = {k: v[1] for k, v in metadata.items()}
meta.update({"test.array_i32": [1, -2, 3], "test.array_str": ["a", "bc", ""], "test.array_nested": [[1, 2], [3]]})
with open(os.path.join(out_dir, "types.json"), "w") as f:
    json.dump({"metadata": meta, "tensors": expected}, f)
print(f"{path}: {os.path.getsize(path)} bytes, {len(expected)} tensors")
