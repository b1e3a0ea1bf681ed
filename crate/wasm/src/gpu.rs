//! The `Gpu` class: a WebGPU device with its adapter report and the kernel self-check.

use crate::error::{to_js, to_js_error};
use std::rc::Rc;
use ttsearch::gpu::GpuContext;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// Whether `globalThis.navigator.gpu` exists.
pub(crate) fn navigator_gpu_present() -> bool {
    let global = js_sys::global();
    js_sys::Reflect::get(&global, &"navigator".into())
        .ok()
        .filter(|n| n.is_object())
        .and_then(|n| js_sys::Reflect::get(&n, &"gpu".into()).ok())
        .is_some_and(|gpu| !gpu.is_undefined() && !gpu.is_null())
}

/// A WebGPU device acquired with the adapter's own limits.
#[wasm_bindgen]
pub struct Gpu {
    ctx: Rc<GpuContext>,
}

#[wasm_bindgen]
impl Gpu {
    /// Acquires an adapter and a device. Rejects with code "no_webgpu" where the environment has
    /// no WebGPU, "no_adapter" where it offers no adapter, "request_device" where the device
    /// request fails.
    pub async fn create() -> Result<Gpu, JsValue> {
        if !navigator_gpu_present() {
            return Err(to_js_error(ttsearch::Error::NoWebGpu(
                "navigator.gpu is not defined in this environment".to_string(),
            )));
        }
        let ctx = GpuContext::new().await.map_err(|e| match e {
            // navigator.gpu exists, so the core's "unsupported" means requestAdapter gave nothing.
            ttsearch::Error::NoWebGpu(m) => to_js_error(ttsearch::Error::NoAdapter(m)),
            other => to_js_error(other),
        })?;
        Ok(Gpu { ctx: Rc::new(ctx) })
    }

    /// The adapter (name, backend, type, driver) and the device limits, as a plain object.
    pub fn info(&self) -> Result<JsValue, JsValue> {
        to_js(self.ctx.report())
    }

    /// Runs every kernel against the CPU backend on random inputs drawn from `seed`; resolves to
    /// `{ seed, passed, cases: [{ kernel, shape, max_abs_error, tolerance, passed }] }`.
    #[wasm_bindgen(js_name = selfCheck)]
    pub fn self_check(&self, seed: u32) -> js_sys::Promise {
        let ctx = Rc::clone(&self.ctx);
        future_to_promise(async move {
            let report = ttsearch::selfcheck::run(&ctx, seed as u64)
                .await
                .map_err(to_js_error)?;
            to_js(&report)
        })
    }

    /// Destroys the device now instead of waiting for garbage collection; later calls reject
    /// with code "device_lost".
    pub fn destroy(&self) {
        self.ctx.destroy();
    }
}
