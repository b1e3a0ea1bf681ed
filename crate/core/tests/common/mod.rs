//! Shared helpers of the native GPU tests: one device per test binary and a fresh seed per run.

use std::sync::OnceLock;
use ttsearch::gpu::GpuContext;

/// Whether this machine has any Vulkan driver (an ICD manifest) installed.
fn vulkan_driver_present() -> bool {
    if std::env::var_os("VK_ICD_FILENAMES").is_some()
        || std::env::var_os("VK_DRIVER_FILES").is_some()
    {
        return true;
    }
    [
        "/usr/share/vulkan/icd.d",
        "/etc/vulkan/icd.d",
        "/usr/local/share/vulkan/icd.d",
    ]
    .iter()
    .filter_map(|dir| std::fs::read_dir(dir).ok())
    .flatten()
    .flatten()
    .any(|entry| entry.path().extension().is_some_and(|e| e == "json"))
}

/// The shared GPU device, or `None` (with a loud SKIPPED line) when the machine has no Vulkan
/// driver at all and TTSEARCH_REQUIRE_GPU is not set. With a driver present, a missing adapter
/// fails the test.
pub fn gpu() -> Option<&'static GpuContext> {
    static CTX: OnceLock<Result<GpuContext, String>> = OnceLock::new();
    let ctx = CTX.get_or_init(|| ttsearch::block_on(GpuContext::new()).map_err(|e| e.to_string()));
    match ctx {
        Ok(ctx) => Some(ctx),
        Err(error) => {
            let required = std::env::var("TTSEARCH_REQUIRE_GPU").is_ok_and(|v| v == "1");
            if !required && !vulkan_driver_present() {
                eprintln!("SKIPPED: native GPU test: no Vulkan driver on this machine ({error})");
                None
            } else {
                panic!("GPU adapter required but not available: {error}");
            }
        }
    }
}

/// TTSEARCH_SEED if set, else a fresh seed from the clock; printed so a failure can be replayed.
#[allow(dead_code)] // not every test binary draws random inputs
pub fn seed() -> u64 {
    let seed = std::env::var("TTSEARCH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0)
        });
    eprintln!("TTSEARCH_SEED={seed}");
    seed
}
