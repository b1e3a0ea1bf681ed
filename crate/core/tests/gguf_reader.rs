//! The GGUF reader against a file written by PyPI `gguf` (scripts/gen_gguf_fixture.py): every
//! metadata value type, every GGML tensor type dequantized as gguf-py does, and typed errors on
//! truncated, corrupt and mutated files.

#![cfg(not(target_arch = "wasm32"))]

use serde_json::Value;
use ttsearch::block_on;
use ttsearch::model::{FileSource, GgufFile, GgufValue, MemorySource};

const FILE: &[u8] = include_bytes!("../../../tests/fixtures/gguf/types.gguf");
const EXPECTED: &str = include_str!("../../../tests/fixtures/gguf/types.json");

fn expected() -> Value {
    serde_json::from_str(EXPECTED).expect("types.json")
}

fn same(value: &GgufValue, want: &Value) -> bool {
    match (value, want) {
        (GgufValue::Array(items), Value::Array(wants)) => {
            items.len() == wants.len() && items.iter().zip(wants).all(|(v, w)| same(v, w))
        }
        (GgufValue::String(s), Value::String(w)) => s == w,
        (GgufValue::Bool(b), Value::Bool(w)) => b == w,
        (GgufValue::U64(v), w) => w.as_u64() == Some(*v),
        (GgufValue::I64(v), w) => w.as_i64() == Some(*v),
        (GgufValue::F64(v), w) => w.as_f64().is_some_and(|w| (v - w).abs() <= 1e-7 * w.abs()),
        _ => false,
    }
}

#[test]
fn metadata_of_every_value_type() {
    let file = block_on(GgufFile::read(&MemorySource::new(FILE))).expect("parses");
    assert_eq!(file.version, 3);
    let want = expected();
    for (key, value) in want["metadata"].as_object().expect("metadata object") {
        let got = file.get(key).unwrap_or_else(|| panic!("missing {key}"));
        assert!(same(got, value), "{key}: {got:?} != {value}");
    }
    assert_eq!(
        file.get("general.architecture").and_then(GgufValue::as_str),
        Some("ttsearch-test")
    );
}

#[test]
fn every_tensor_type_dequantizes_like_gguf_py() {
    let source = MemorySource::new(FILE);
    let file = block_on(GgufFile::read(&source)).expect("parses");
    let want = expected();
    let tensors = want["tensors"].as_object().expect("tensors object");
    assert_eq!(file.tensors.len(), tensors.len());
    for (name, spec) in tensors {
        let info = file
            .tensor(name)
            .unwrap_or_else(|| panic!("missing tensor {name}"));
        assert_eq!(
            info.ty.name(),
            spec["type"].as_str().expect("type"),
            "{name}"
        );
        let dims: Vec<u64> = spec["dims"]
            .as_array()
            .expect("dims")
            .iter()
            .filter_map(Value::as_u64)
            .collect();
        assert_eq!(info.dims, dims, "{name}");
        assert_eq!(info.rows_cols(), (2, 512));
        let got = block_on(file.tensor_f32(&source, info)).expect("dequantizes");
        let values = spec["values"].as_array().expect("values");
        assert_eq!(got.len(), values.len(), "{name}");
        for (i, (g, w)) in got.iter().zip(values).enumerate() {
            let w = w.as_f64().expect("number") as f32;
            assert!(
                (g - w).abs() <= 1e-6 * w.abs().max(1e-3),
                "{name}[{i}]: {g} != {w}"
            );
        }
    }
}

#[test]
fn reads_from_a_file_too() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/gguf/types.gguf"
    );
    let source = FileSource::open(path).expect("opens");
    let file = block_on(GgufFile::read(&source)).expect("parses");
    let info = file.tensor("q6_k").expect("q6_k");
    assert_eq!(
        block_on(file.tensor_bytes(&source, info))
            .expect("reads")
            .len() as u64,
        info.byte_len
    );
    assert_eq!(
        FileSource::open("/nonexistent/model.gguf")
            .unwrap_err()
            .code(),
        "io"
    );
}

#[test]
fn every_truncation_is_a_typed_error() {
    // The writer pads after the last tensor: a prefix that still holds every tensor is whole.
    let full = block_on(GgufFile::read(&MemorySource::new(FILE))).expect("parses");
    let data_end = full
        .tensors
        .iter()
        .map(|t| t.offset + t.byte_len)
        .max()
        .unwrap_or(0) as usize;
    assert!(data_end > FILE.len() - 64, "data ends at {data_end}");
    for len in 0..data_end {
        let source = MemorySource::new(&FILE[..len]);
        match block_on(GgufFile::read(&source)) {
            Err(e) => assert_eq!(e.code(), "format", "prefix {len}: {e}"),
            Ok(_) => panic!("a {len}-byte prefix of a {}-byte file parsed", FILE.len()),
        }
    }
}

#[test]
fn corrupt_headers_are_typed_errors() {
    let with = |at: usize, bytes: &[u8]| {
        let mut f = FILE.to_vec();
        f[at..at + bytes.len()].copy_from_slice(bytes);
        block_on(GgufFile::read(&MemorySource::new(f))).unwrap_err()
    };
    assert_eq!(with(0, b"GGUG").code(), "format");
    assert_eq!(with(4, &7u32.to_le_bytes()).code(), "unsupported");
    // Absurd counts are rejected before anything is allocated.
    assert_eq!(with(8, &u64::MAX.to_le_bytes()).code(), "format");
    assert_eq!(with(16, &(1u64 << 40).to_le_bytes()).code(), "format");
}

#[test]
fn mutated_files_never_panic() {
    let mut state: u64 = 0x853c_49e6_748f_ea9b;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    for _ in 0..3000 {
        let mut f = FILE.to_vec();
        for _ in 0..1 + next() % 4 {
            let at = (next() as usize) % f.len();
            f[at] = next() as u8;
        }
        let source = MemorySource::new(f);
        if let Ok(file) = block_on(GgufFile::read(&source)) {
            for t in &file.tensors {
                let _ = block_on(file.tensor_f32(&source, t));
            }
        }
    }
}
