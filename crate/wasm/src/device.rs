//! The page's (or worker's) one GPU device, shared by every model loaded on WebGPU: created on
//! first use, created anew after it is lost.

use std::cell::RefCell;
use ttsearch::gpu::GpuContext;
use ttsearch::{Error, Result};

thread_local! {
    static DEVICE: RefCell<Option<GpuContext>> = const { RefCell::new(None) };
}

/// The shared device: the existing one while it is healthy, else a new one.
pub(crate) async fn shared_device() -> Result<GpuContext> {
    let current = DEVICE.with(|d| d.borrow().clone());
    if let Some(ctx) = current
        && ctx.check_healthy().is_ok()
    {
        return Ok(ctx);
    }
    if !crate::gpu::navigator_gpu_present() {
        return Err(Error::NoWebGpu(
            "navigator.gpu is not defined in this environment".to_string(),
        ));
    }
    let ctx = GpuContext::new().await.map_err(|e| match e {
        // navigator.gpu exists, so the core's "not available" means no adapter.
        Error::NoWebGpu(m) => Error::NoAdapter(m),
        other => other,
    })?;
    DEVICE.with(|d| *d.borrow_mut() = Some(ctx.clone()));
    Ok(ctx)
}

/// Whether a WebGPU adapter can be had here (without keeping a device when there was none).
pub(crate) async fn webgpu_available() -> bool {
    shared_device().await.is_ok()
}

/// The storage buffers the shared device holds now, when there is one.
pub(crate) fn buffer_stats() -> Option<ttsearch::gpu::BufferStats> {
    DEVICE.with(|d| d.borrow().as_ref().map(GpuContext::buffer_stats))
}

/// Destroys the shared device, as a lost device would be (tests of recovery).
pub(crate) fn destroy() {
    DEVICE.with(|d| {
        if let Some(ctx) = d.borrow().as_ref() {
            ctx.destroy();
        }
    });
}
