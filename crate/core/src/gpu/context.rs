//! Adapter and device acquisition, device-lost and uncaptured-error tracking.

use super::kernels::Kernel;
use super::pipeline::{Pipeline, PipelineCache};
use super::report::{AdapterReport, LimitsReport, device_type_name};
use crate::error::{Error, Result};
use std::sync::{Arc, Mutex};

/// How to pick the adapter.
#[derive(Debug, Clone, Default)]
pub struct GpuOptions {
    /// Prefer a low-power adapter (integrated GPU) over a high-performance one.
    pub low_power: bool,
    /// Native only: restrict to these backends; `None` reads `WGPU_BACKEND` (e.g. "vulkan").
    pub backends: Option<wgpu::Backends>,
}

/// A GPU device with its queue, limits and pipeline cache. Cloning it is cheap and shares the
/// device: models and caches keep a clone, so whatever owns them (an engine, a JS object) owns
/// what they run on.
#[derive(Clone)]
pub struct GpuContext {
    pub(crate) inner: Arc<Device>,
}

/// What a [`GpuContext`] shares.
pub(crate) struct Device {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) limits: wgpu::Limits,
    pipelines: PipelineCache,
    pub(crate) live: Arc<super::buffer::LiveBuffers>,
    report: AdapterReport,
    lost: Arc<Mutex<Option<String>>>,
    uncaptured: Arc<Mutex<Option<String>>>,
    /// Whether the device was created with timestamp queries (the adapter offers them).
    pub(crate) timestamps: bool,
}

impl GpuContext {
    /// Acquires the default adapter and a device with all of the adapter's limits.
    pub async fn new() -> Result<Self> {
        Self::with_options(&GpuOptions::default()).await
    }

    /// Acquires an adapter as `options` say and a device with all of the adapter's limits.
    pub async fn with_options(options: &GpuOptions) -> Result<Self> {
        let instance = create_instance(options).await?;
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: if options.low_power {
                    wgpu::PowerPreference::LowPower
                } else {
                    wgpu::PowerPreference::HighPerformance
                },
                force_fallback_adapter: false,
                compatible_surface: None,
                apply_limit_buckets: false,
            })
            .await
            .map_err(|e| Error::NoAdapter(e.to_string()))?;
        // Request the adapter's real limits: the defaults cap bindings at 128 MiB and buffers at
        // 256 MiB, too small for a vocabulary-sized LM head.
        let limits = adapter.limits();
        // Timestamp queries where offered: `ttsearch bench` times the GPU's passes with them.
        let features = adapter.features() & wgpu::Features::TIMESTAMP_QUERY;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("ttsearch"),
                required_features: features,
                required_limits: limits.clone(),
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|e| Error::RequestDevice(e.to_string()))?;
        let info = adapter.get_info();
        let report = AdapterReport {
            name: info.name,
            backend: info.backend.to_string(),
            device_type: device_type_name(info.device_type).to_string(),
            driver: info.driver,
            driver_info: info.driver_info,
            shader_f16: adapter.features().contains(wgpu::Features::SHADER_F16),
            limits: LimitsReport::from(&limits),
        };

        let lost = Arc::new(Mutex::new(None));
        let lost_slot = Arc::clone(&lost);
        device.set_device_lost_callback(move |reason, message| {
            if let Ok(mut slot) = lost_slot.lock() {
                slot.get_or_insert(format!("{reason:?}: {message}"));
            }
        });
        let uncaptured = Arc::new(Mutex::new(None));
        let uncaptured_slot = Arc::clone(&uncaptured);
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            if let Ok(mut slot) = uncaptured_slot.lock() {
                slot.get_or_insert(error.to_string());
            }
        }));

        // On the web everything runs on one thread; natively wgpu's types are Send and Sync.
        #[allow(clippy::arc_with_non_send_sync)]
        let inner = Arc::new(Device {
            device,
            queue,
            limits,
            pipelines: PipelineCache::default(),
            live: Arc::default(),
            report,
            lost,
            uncaptured,
            timestamps: !features.is_empty(),
        });
        Ok(Self { inner })
    }

    /// The compiled pipeline of `kernel` (compiled on first use; see [`PipelineCache`]).
    pub(crate) async fn pipeline(&self, kernel: Kernel) -> Result<Pipeline> {
        self.check_healthy()?;
        self.inner
            .pipelines
            .get_or_compile(&self.inner.device, kernel)
            .await
    }

    /// The adapter's description and the device limits.
    pub fn report(&self) -> &AdapterReport {
        &self.inner.report
    }

    /// The limits the device was created with.
    pub fn limits(&self) -> &wgpu::Limits {
        &self.inner.limits
    }

    /// Fails with [`Error::DeviceLost`] once the device is gone, or with [`Error::Gpu`] if the
    /// runtime reported an error outside any error scope.
    pub fn check_healthy(&self) -> Result<()> {
        if let Some(message) = self.inner.lost.lock().ok().and_then(|s| s.clone()) {
            return Err(Error::DeviceLost(message));
        }
        if let Some(message) = self.inner.uncaptured.lock().ok().and_then(|mut s| s.take()) {
            return Err(Error::Gpu(message));
        }
        Ok(())
    }

    /// Destroys the device: every later operation fails with [`Error::DeviceLost`].
    pub fn destroy(&self) {
        self.inner.device.destroy();
        if let Ok(mut slot) = self.inner.lost.lock() {
            slot.get_or_insert_with(|| "destroyed by the caller".to_string());
        }
    }

    /// Completes when every submitted command has run on the device (benchmarks' sync point).
    pub async fn wait_idle(&self) -> Result<()> {
        self.check_healthy()?;
        let (sender, receiver) = futures_channel::oneshot::channel();
        self.inner.queue.on_submitted_work_done(move || {
            // The receiver only disappears if the caller dropped the future.
            let _ = sender.send(());
        });
        self.poll_wait()?;
        receiver
            .await
            .map_err(|_| Error::Gpu("the device dropped a work-done callback".to_string()))?;
        self.check_healthy()
    }

    /// Native: waits until submitted work has completed and map callbacks have run.
    /// On the web the browser polls by itself and this returns at once.
    pub(crate) fn poll_wait(&self) -> Result<()> {
        #[cfg(not(target_arch = "wasm32"))]
        self.inner
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(e.to_string()))?;
        Ok(())
    }
}

#[cfg(not(target_arch = "wasm32"))]
async fn create_instance(options: &GpuOptions) -> Result<wgpu::Instance> {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    if let Some(backends) = options.backends {
        desc.backends = backends;
    }
    Ok(wgpu::Instance::new(desc))
}

#[cfg(target_arch = "wasm32")]
async fn create_instance(_options: &GpuOptions) -> Result<wgpu::Instance> {
    // wgpu panics when asked for browser WebGPU outside a window or dedicated worker (Node, a
    // service worker): find out first and return a typed error instead.
    if !wgpu::util::is_browser_webgpu_supported().await {
        return Err(Error::NoWebGpu(
            "navigator.gpu is missing (not a window or dedicated worker, or WebGPU disabled) \
             or it offers no adapter"
                .to_string(),
        ));
    }
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::BROWSER_WEBGPU;
    Ok(wgpu::Instance::new(desc))
}
