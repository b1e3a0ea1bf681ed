//! `ttsearch logits --backend gpu` against `--backend cpu` on a fixture model (lavapipe in CI).
//! Without any Vulkan driver (and TTSEARCH_REQUIRE_GPU unset) it says SKIPPED.

use std::process::Command;

fn logits(backend: &str, dtype: &str) -> Result<Vec<f64>, String> {
    let dir = format!(
        "{}/../../tests/fixtures/models/llama-tiny",
        env!("CARGO_MANIFEST_DIR")
    );
    let o = Command::new(env!("CARGO_BIN_EXE_ttsearch"))
        .args([
            "logits",
            "--model",
            &dir,
            "--tokens",
            "5,17,200,3,99",
            "--positions",
            "last",
        ])
        .args(["--backend", backend, "--dtype", dtype, "--json"])
        .output()
        .expect("runs");
    if !o.status.success() {
        return Err(String::from_utf8_lossy(&o.stderr).into_owned());
    }
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    Ok(out["logits"][0]
        .as_array()
        .expect("row")
        .iter()
        .map(|v| v.as_f64().expect("number"))
        .collect())
}

#[test]
fn gpu_backend_matches_cpu_backend() {
    for dtype in ["f32", "q8", "q4"] {
        let gpu = match logits("gpu", dtype) {
            Ok(v) => v,
            Err(e)
                if e.contains("[no_adapter]")
                    && std::env::var("TTSEARCH_REQUIRE_GPU").as_deref() != Ok("1") =>
            {
                eprintln!("SKIPPED: ttsearch logits --backend gpu: no adapter ({e})");
                return;
            }
            Err(e) => panic!("--backend gpu --dtype {dtype}: {e}"),
        };
        let cpu = logits("cpu", dtype).expect("cpu backend");
        let d = gpu
            .iter()
            .zip(&cpu)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(d < 1e-4, "{dtype}: |gpu - cpu| = {d}");
    }
}
