//! PyTorch checkpoints against torch itself (tests/fixtures/models/pytorch, written by
//! scripts/gen_pytorch_fixtures.py with torch.save): every dtype, a view at an offset, shared
//! storages and Parameters read back as torch.load reads them; a non-contiguous tensor and
//! damaged files give typed errors; the sharded skywork-tiny-bin PRM holds exactly the tensors
//! of its safetensors original (its scores are checked against transformers in prm_golden).

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{assert_close, fixture_store};
use std::path::PathBuf;
use ttsearch::Error;
use ttsearch::model::{MemorySource, PytorchFile, TensorFile, TensorStore};
use ttsearch::{SafetensorsDtype, block_on};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn open(bytes: Vec<u8>) -> ttsearch::Result<PytorchFile<MemorySource>> {
    block_on(PytorchFile::open(MemorySource::new(bytes)))
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("models/pytorch").join(name)).expect("fixture")
}

#[test]
fn tensors_read_as_torch_reads_them() {
    let file = open(read("tensors.bin")).expect("opens");
    let want: serde_json::Value =
        serde_json::from_slice(&read("tensors.json")).expect("tensors.json");
    let want = want.as_object().expect("object");
    let mut names = file.names();
    names.sort();
    let mut expected: Vec<&str> = want.keys().map(String::as_str).collect();
    expected.sort();
    assert_eq!(names, expected);
    for (name, t) in want {
        let shape: Vec<usize> = t["shape"]
            .as_array()
            .expect("shape")
            .iter()
            .map(|d| d.as_u64().expect("dim") as usize)
            .collect();
        assert_eq!(file.shape_of(name), Some(shape.clone()), "{name}");
        let dtype = match t["dtype"].as_str().expect("dtype") {
            "float32" => SafetensorsDtype::F32,
            "float16" => SafetensorsDtype::F16,
            "bfloat16" => SafetensorsDtype::BF16,
            other => panic!("{other}"),
        };
        assert_eq!(file.dtype_of(name), Some(dtype), "{name}");
        let values: Vec<f64> = t["values"]
            .as_array()
            .expect("values")
            .iter()
            .map(|v| v.as_f64().expect("number"))
            .collect();
        let rows = shape.first().copied().unwrap_or(1).max(1);
        let got = block_on(file.read_rows(name, 0, rows)).expect("reads");
        // torch's values are the stored ones widened to f32: equal exactly.
        assert_close(&got, &values, 1e-12, name);
        if rows > 1 {
            let cols = values.len() / rows;
            let tail = block_on(file.read_rows(name, 1, rows)).expect("reads rows");
            assert_close(&tail, &values[cols..], 1e-12, name);
        }
    }
    assert!(
        block_on(file.read_rows("a.f32", 2, 4)).is_err(),
        "rows past the end"
    );
}

#[test]
fn non_contiguous_and_damaged_files_are_typed_errors() {
    match open(read("transposed.bin")) {
        Err(Error::Unsupported(m)) => assert!(m.contains("not contiguous"), "{m}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a transposed tensor opened"),
    }
    let whole = read("tensors.bin");
    for cut in [0, 21, whole.len() / 2, whole.len() - 1] {
        assert!(
            matches!(open(whole[..cut].to_vec()), Err(Error::Format { .. })),
            "cut at {cut}"
        );
    }
    assert!(matches!(open(vec![7u8; 4096]), Err(Error::Format { .. })));
    // A zip whose data.pkl is not a state dict.
    let json = std::fs::read(fixtures().join("models/pytorch/tensors.json")).expect("json");
    assert!(open(json).is_err());
}

#[test]
fn a_sharded_pytorch_prm_holds_its_safetensors_tensors() {
    let prms = fixtures().join("prms");
    let original = fixture_store(&prms.join("skywork-tiny"));
    let converted = fixture_store(&prms.join("skywork-tiny-bin"));
    let ttsearch::load::AnyStore::Safetensors(st) = &original else {
        panic!("skywork-tiny is safetensors");
    };
    assert!(matches!(converted, ttsearch::load::AnyStore::Pytorch(_)));
    let mut count = 0;
    for (name, _) in st.tensors() {
        assert_eq!(converted.shape(name), original.shape(name), "{name}");
        let a = block_on(original.tensor_f32(name)).expect("original");
        let b = block_on(converted.tensor_f32(name)).expect("converted");
        assert_close(&b.data, &a.data, 1e-12, name);
        count += 1;
    }
    assert!(count > 10, "only {count} tensors");
}
