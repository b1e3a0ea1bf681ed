//! Fuzz target: any bytes as a safetensors file: parse the header, read every tensor as f32.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ttsearch::model::{MemorySource, SafetensorsFile};

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = ttsearch::block_on(SafetensorsFile::open(MemorySource::new(data.to_vec()))) {
        let names: Vec<String> = file.names().map(String::from).collect();
        for name in names {
            let _ = ttsearch::block_on(file.read_f32(&name));
        }
    }
});
