//! Fuzz target: any bytes as a GGUF file: parse the header, read and dequantize every tensor.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ttsearch::model::{GgufFile, MemorySource, ModelConfig};

fuzz_target!(|data: &[u8]| {
    let source = MemorySource::new(data.to_vec());
    if let Ok(file) = ttsearch::block_on(GgufFile::read(&source)) {
        let _ = ModelConfig::from_gguf(&file);
        for t in &file.tensors {
            let _ = ttsearch::block_on(file.tensor_f32(&source, t));
        }
    }
});
