//! A model in JS: opened from a folder of files the package provides (a hub repo, a URL, picked
//! files, bytes), put on WebGPU or the CPU in a weight format, then used to generate, to score
//! steps as a PRM, or by a solver. `inspect` reads only headers (the size check a page makes
//! before downloading); `load` reads the weights tensor by tensor.

use crate::cancel::Cancel;
use crate::device::shared_device;
use crate::error::{from_js, to_js, to_js_error};
use crate::files::{JsFiles, JsModelFiles};
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use ttsearch::engine::{
    AnyBackend, Backend, Counters, Engine, ExtendOptions, FinishReason, SamplingParams, StepHook,
};
use ttsearch::load::{self, Device, KvBudget, LoadOptions, ModelSource, WeightFiles};
use ttsearch::model::ModelConfig;
use ttsearch::prm::{Prm, PrmFormat, PrmHead};
use ttsearch::quant::WeightFormat;
use ttsearch::tokenize::Tokenizer;
use ttsearch::{Error, Result};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

/// KV-cache bytes when the caller gives no budget.
const DEFAULT_KV_BYTES: u64 = 256 << 20;

/// The options `inspect` and `load` take (the package fills them in).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LoadArgs {
    /// The weights file when the folder holds a GGUF file.
    #[serde(default)]
    gguf: Option<String>,
    /// f32, f16, q8, q4, gguf, or auto (the file's own float format; gguf for quantized GGUF
    /// files).
    #[serde(default)]
    dtype: Option<String>,
    /// webgpu, cpu or auto (WebGPU when an adapter exists).
    #[serde(default)]
    device: Option<String>,
    /// KV-cache blocks (default: as many as `kvBytes` hold).
    #[serde(default)]
    kv_blocks: Option<usize>,
    /// KV-cache bytes (default 256 MiB).
    #[serde(default)]
    kv_bytes: Option<f64>,
    /// Positions per KV block.
    #[serde(default)]
    block_size: Option<usize>,
    /// The most bytes the model may take on its device (weights and KV cache).
    #[serde(default)]
    max_bytes: Option<f64>,
    /// A TRL PRM's step separator, instead of the one its files record.
    #[serde(default)]
    prm_separator: Option<String>,
}

/// What `inspect` finds, before any weight is read.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Inspection {
    architecture: String,
    layers: usize,
    parameters: u64,
    context_length: usize,
    vocab_size: usize,
    /// "webgpu" or "cpu".
    device: String,
    /// Why that device.
    device_reason: String,
    dtype: String,
    kv_blocks: usize,
    block_size: usize,
    weight_bytes: u64,
    kv_bytes: u64,
    total_bytes: u64,
    max_bytes: Option<u64>,
    has_prm_head: bool,
    has_tokenizer: bool,
    has_chat_template: bool,
}

/// A loaded model's engine, tokenizer and PRM head.
pub(crate) struct Parts {
    pub engine: Engine<AnyBackend>,
    pub tokenizer: Result<Tokenizer>,
    pub head: Option<PrmHead>,
}

/// Where a model's parts live: out while a call has them (a call takes them, then puts them
/// back), gone once disposed.
#[derive(Default)]
pub(crate) struct Slot {
    parts: RefCell<Option<Parts>>,
    disposed: Cell<bool>,
}

/// A model's slot, shared by the JS object and the solvers that use it.
pub(crate) type Shared = Rc<Slot>;

/// Takes the parts out for one call.
pub(crate) fn take(shared: &Shared, what: &str) -> Result<Parts> {
    if shared.disposed.get() {
        return Err(Error::InvalidArgument(format!("{what} was disposed")));
    }
    shared
        .parts
        .try_borrow_mut()
        .ok()
        .and_then(|mut p| p.take())
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{what} is busy with another call (calls on one model run one at a time)"
            ))
        })
}

/// Puts the parts back after a call, with nothing left allocated in the engine (or frees them,
/// when the model was disposed meanwhile).
pub(crate) fn put_back(shared: &Shared, mut parts: Parts) {
    parts.engine.set_step_hook(None);
    // Whatever the call left (an error, an abort) is freed: nothing stays allocated.
    let _ = parts.engine.release_all();
    if shared.disposed.get() {
        return;
    }
    if let Ok(mut slot) = shared.parts.try_borrow_mut() {
        *slot = Some(parts);
    }
}

/// A model loaded in this module.
#[wasm_bindgen]
pub struct Model {
    pub(crate) parts: Shared,
    info: JsValue,
}

fn source(files: JsModelFiles, args: &LoadArgs) -> ModelSource<JsFiles> {
    ModelSource {
        files: JsFiles(files),
        weights: match &args.gguf {
            Some(name) => WeightFiles::Gguf(name.clone()),
            None => WeightFiles::Safetensors,
        },
    }
}

/// The device `args` ask for, and why.
async fn pick_device(args: &LoadArgs) -> Result<(Device, String)> {
    match args.device.as_deref().unwrap_or("auto") {
        "cpu" => Ok((Device::Cpu, "asked for".to_string())),
        "webgpu" | "gpu" => Ok((Device::Gpu(shared_device().await?), "asked for".to_string())),
        "auto" => match shared_device().await {
            Ok(ctx) => Ok((
                Device::Gpu(ctx),
                "a WebGPU adapter is available".to_string(),
            )),
            Err(e) => Ok((Device::Cpu, format!("no WebGPU ({e})"))),
        },
        other => Err(Error::InvalidArgument(format!(
            "device {other:?}: use webgpu, cpu or auto"
        ))),
    }
}

/// Everything `inspect` and `load` decide from the headers.
struct Plan {
    options: LoadOptions,
    device_reason: String,
    estimate: load::MemoryEstimate,
}

fn plan<S: ttsearch::model::ByteSource>(
    args: &LoadArgs,
    checkpoint: &load::Checkpoint<S>,
    device: Device,
    device_reason: String,
) -> Result<Plan> {
    let config = &checkpoint.config;
    let dtype = match args.dtype.as_deref().unwrap_or("auto") {
        "auto" => load::native_format(&checkpoint.store),
        other => WeightFormat::parse(other)?,
    };
    let block_size = args.block_size.unwrap_or(ttsearch::kv::DEFAULT_BLOCK_SIZE);
    let kv = match (args.kv_blocks, args.kv_bytes) {
        (Some(blocks), _) => KvBudget::Blocks(blocks),
        (None, Some(bytes)) if bytes.is_finite() && bytes > 0.0 => KvBudget::Bytes(bytes as u64),
        (None, Some(bytes)) => {
            return Err(Error::InvalidArgument(format!(
                "kvBytes must be a positive number, got {bytes}"
            )));
        }
        (None, None) => KvBudget::Bytes(DEFAULT_KV_BYTES),
    };
    let options = LoadOptions {
        dtype,
        device,
        block_size,
        kv,
    };
    let blocks = options.kv_blocks(config.into());
    let estimate = load::estimate(config, dtype, blocks, block_size);
    check_budget(args, config, &options, blocks, estimate)?;
    Ok(Plan {
        options,
        device_reason,
        estimate,
    })
}

/// Refuses a model that does not fit, with the figures and a smaller format to try.
fn check_budget(
    args: &LoadArgs,
    config: &ModelConfig,
    options: &LoadOptions,
    blocks: usize,
    estimate: load::MemoryEstimate,
) -> Result<()> {
    let Some(max) = args.max_bytes.filter(|m| m.is_finite() && *m > 0.0) else {
        return Ok(());
    };
    let max = max as u64;
    if estimate.total <= max {
        return Ok(());
    }
    let mb = |b: u64| b as f64 / 1e6;
    let smaller = [WeightFormat::Q8, WeightFormat::Q4]
        .into_iter()
        .map(|f| (f, load::estimate(config, f, blocks, options.block_size)))
        .find(|(_, e)| e.total <= max && e.weights < estimate.weights);
    let advice = match smaller {
        Some((f, e)) => format!("dtype {} would take {:.0} MB", f.name(), mb(e.total)),
        None => "use a smaller model or a smaller KV cache (kvBytes)".to_string(),
    };
    Err(Error::OutOfMemory(format!(
        "the model needs {:.0} MB on the {} ({:.0} MB of weights in {}, {:.0} MB of KV cache), \
         more than the {:.0} MB allowed: {advice}",
        mb(estimate.total),
        match options.device {
            Device::Cpu => "CPU backend",
            Device::Gpu(_) => "GPU",
        },
        mb(estimate.weights),
        options.dtype.name(),
        mb(estimate.kv_cache),
        mb(max),
    )))
}

/// A JS callback after every decode step: `onStep(counters)`; when it returns a promise, the
/// engine waits for it (the package yields to the event loop there).
pub(crate) fn step_hook(on_step: js_sys::Function) -> StepHook {
    Box::new(move |counters: Counters| {
        let result = to_js(&counters).and_then(|c| on_step.call1(&JsValue::NULL, &c));
        Box::pin(async move {
            if let Ok(value) = result
                && let Ok(promise) = value.dyn_into::<js_sys::Promise>()
            {
                let _ = JsFuture::from(promise).await;
            }
        })
    })
}

/// The options of `generate`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GenerateArgs {
    #[serde(default)]
    n: Option<usize>,
    #[serde(default)]
    temperature: Option<f32>,
    #[serde(default)]
    top_p: Option<f32>,
    #[serde(default)]
    top_k: Option<usize>,
    #[serde(default)]
    max_tokens: Option<usize>,
    #[serde(default)]
    stop: Vec<String>,
    #[serde(default)]
    stop_token_ids: Vec<u32>,
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default)]
    logprobs: Option<usize>,
    #[serde(default)]
    ignore_eos: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GeneratedOutput {
    text: String,
    tokens: Vec<u32>,
    finish_reason: String,
    logprobs: Vec<Option<f32>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    top_logprobs: Vec<Vec<(u32, f32)>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Usage {
    prompt_tokens: usize,
    completion_tokens: usize,
    total_tokens: usize,
}

#[derive(Serialize)]
struct GenerateResult {
    outputs: Vec<GeneratedOutput>,
    usage: Usage,
}

fn prompt_ids(prompt: &JsValue, tokenizer: &Result<Tokenizer>) -> Result<Vec<u32>> {
    if let Some(text) = prompt.as_string() {
        let tokenizer = tokenizer.as_ref().map_err(Clone::clone)?;
        return tokenizer.encode(&text, true);
    }
    if js_sys::Array::is_array(prompt) || prompt.is_instance_of::<js_sys::Uint32Array>() {
        let ids: Vec<f64> = js_sys::Array::from(prompt)
            .iter()
            .map(|v| v.as_f64().unwrap_or(-1.0))
            .collect();
        return ids
            .into_iter()
            .map(|v| {
                if v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) {
                    Ok(v as u32)
                } else {
                    Err(Error::InvalidArgument(format!("token id {v} is not one")))
                }
            })
            .collect();
    }
    Err(Error::InvalidArgument(
        "the prompt must be a string or an array of token ids".into(),
    ))
}

async fn run_generate(
    parts: &mut Parts,
    prompt: JsValue,
    args: GenerateArgs,
    on_text: Option<js_sys::Function>,
    cancel: &Cancel,
) -> Result<GenerateResult> {
    let ids = prompt_ids(&prompt, &parts.tokenizer)?;
    let n = args.n.unwrap_or(1);
    if n == 0 {
        return Err(Error::InvalidArgument("n must be at least 1".into()));
    }
    let defaults = SamplingParams::default();
    let params = SamplingParams {
        temperature: args.temperature.unwrap_or(defaults.temperature),
        top_p: args.top_p.unwrap_or(defaults.top_p),
        top_k: args.top_k.unwrap_or(defaults.top_k),
        seed: args.seed.unwrap_or(defaults.seed),
        max_tokens: args.max_tokens.unwrap_or(defaults.max_tokens),
        stop_token_ids: args.stop_token_ids,
        stop: args.stop,
        logprobs: args.logprobs.unwrap_or(0),
        ignore_eos: args.ignore_eos,
    };
    params.validate()?;
    if !params.stop.is_empty() {
        parts.tokenizer.as_ref().map_err(Clone::clone)?;
    }
    let root = parts.engine.prefill(&ids).await?;
    let seqs = parts.engine.fork(root, n)?;
    parts.engine.release(root)?;
    let mut callback = |seq: ttsearch::kv::SeqId, piece: &str| {
        if let (Some(f), Some(i)) = (&on_text, seqs.iter().position(|s| *s == seq)) {
            let _ = f.call2(&JsValue::NULL, &JsValue::from(i as u32), &piece.into());
        }
    };
    let options = ExtendOptions {
        codec: parts
            .tokenizer
            .as_ref()
            .ok()
            .map(|t| t as &dyn ttsearch::tokenize::TokenCodec),
        cancel: Some(&cancel.token),
        on_text: Some(&mut callback),
        release_finished: true,
        streams: None,
    };
    let outputs = parts.engine.extend(&seqs, &params, options).await?;
    let completion_tokens = outputs.iter().map(|o| o.tokens.len()).sum();
    Ok(GenerateResult {
        outputs: outputs
            .into_iter()
            .map(|o| GeneratedOutput {
                finish_reason: match &o.finish_reason {
                    FinishReason::Eos => "eos".to_string(),
                    FinishReason::Length => "length".to_string(),
                    FinishReason::Stop(_) => "stop".to_string(),
                },
                text: o.text,
                tokens: o.tokens,
                logprobs: o.logprobs,
                top_logprobs: o.top_logprobs,
            })
            .collect(),
        usage: Usage {
            prompt_tokens: ids.len(),
            completion_tokens,
            total_tokens: ids.len() * n + completion_tokens,
        },
    })
}

async fn run_score(
    parts: Parts,
    question: String,
    steps: Vec<String>,
    kind: Option<String>,
) -> (Parts, Result<Vec<f32>>) {
    let Parts {
        engine,
        tokenizer,
        head,
    } = parts;
    let tokenizer = match tokenizer {
        Ok(t) => t,
        Err(e) => {
            let parts = Parts {
                engine,
                tokenizer: Err(e.clone()),
                head,
            };
            return (parts, Err(e));
        }
    };
    let format = match kind.as_deref().map(PrmFormat::parse).transpose() {
        Ok(Some(f)) => Ok(f),
        Ok(None) => PrmFormat::detect(head.as_ref()),
        Err(e) => Err(e),
    };
    let prm_head = format
        .clone()
        .and_then(|f| PrmHead::for_format(head.clone(), f, &tokenizer));
    let (format, prm_head) = match (format, prm_head) {
        (Ok(f), Ok(h)) => (f, h),
        (Err(e), _) | (_, Err(e)) => {
            let parts = Parts {
                engine,
                tokenizer: Ok(tokenizer),
                head,
            };
            return (parts, Err(e));
        }
    };
    let mut prm = Prm::new(engine, tokenizer, prm_head, format);
    let refs: Vec<&str> = steps.iter().map(String::as_str).collect();
    let scores = prm.score(&question, &refs).await;
    let (engine, tokenizer, _) = prm.into_parts();
    let parts = Parts {
        engine,
        tokenizer: tokenizer.ok_or_else(|| Error::InvalidArgument("no tokenizer".into())),
        head,
    };
    (parts, scores)
}

#[wasm_bindgen]
impl Model {
    /// Reads a model's headers (config, tensor directory, tokenizer) from `files`, picks the
    /// device, format and KV cache `options` ask for, and resolves to what loading would take:
    /// `{ architecture, parameters, device, dtype, weightBytes, kvBytes, totalBytes, ... }`.
    /// Rejects with `out_of_memory` (with the figures and a smaller format) when it would not fit
    /// `options.maxBytes`.
    pub async fn inspect(
        files: JsModelFiles,
        options: JsValue,
    ) -> std::result::Result<JsValue, JsValue> {
        let args: LoadArgs = from_js(options, "load options").map_err(to_js_error)?;
        let source = source(files, &args);
        let checkpoint = load::open(&source, None).await.map_err(to_js_error)?;
        let (device, reason) = pick_device(&args).await.map_err(to_js_error)?;
        let plan = plan(&args, &checkpoint, device, reason).map_err(to_js_error)?;
        let c = &checkpoint.config;
        to_js(&Inspection {
            architecture: format!("{:?}", c.architecture),
            layers: c.num_hidden_layers,
            parameters: c.parameter_count(),
            context_length: c.max_position_embeddings,
            vocab_size: c.vocab_size,
            device: match plan.options.device {
                Device::Cpu => "cpu".to_string(),
                Device::Gpu(_) => "webgpu".to_string(),
            },
            device_reason: plan.device_reason,
            dtype: plan.options.dtype.name().to_string(),
            kv_blocks: plan.options.kv_blocks(c.into()),
            block_size: plan.options.block_size,
            weight_bytes: plan.estimate.weights,
            kv_bytes: plan.estimate.kv_cache,
            total_bytes: plan.estimate.total,
            max_bytes: args.max_bytes.map(|m| m as u64),
            has_prm_head: checkpoint.head.is_some(),
            has_tokenizer: checkpoint.tokenizer.is_ok(),
            has_chat_template: checkpoint
                .tokenizer
                .as_ref()
                .is_ok_and(|t| t.chat_template.is_some()),
        })
    }

    /// Loads a model from `files` as `options` say (see `inspect`), weights read tensor by
    /// tensor (matrices in chunks of rows) and put on the device as they arrive.
    pub async fn load(
        files: JsModelFiles,
        options: JsValue,
    ) -> std::result::Result<Model, JsValue> {
        let args: LoadArgs = from_js(options, "load options").map_err(to_js_error)?;
        let source = source(files, &args);
        let mut checkpoint = load::open(&source, None).await.map_err(to_js_error)?;
        if let (Some(separator), Some(head)) = (&args.prm_separator, checkpoint.head.as_mut()) {
            head.set_separator(separator).map_err(to_js_error)?;
        }
        let (device, reason) = pick_device(&args).await.map_err(to_js_error)?;
        let plan = plan(&args, &checkpoint, device, reason).map_err(to_js_error)?;
        let engine = load::engine(
            &checkpoint.config,
            &checkpoint.store,
            checkpoint.tokenizer.as_ref().ok(),
            &plan.options,
        )
        .await
        .map_err(to_js_error)?;
        let loaded = load::LoadedModel {
            engine,
            tokenizer: checkpoint.tokenizer,
            head: checkpoint.head,
        };
        let mut info = to_js(&loaded.info(plan.options.dtype))?;
        let extra = js_sys::Object::new();
        let set = |k: &str, v: JsValue| js_sys::Reflect::set(&extra, &k.into(), &v);
        let _ = set("deviceReason", plan.device_reason.into());
        let _ = set("hasPrmHead", loaded.head.is_some().into());
        let _ = set(
            "prmKind",
            match PrmFormat::detect(loaded.head.as_ref()) {
                Ok(f) => f.name().into(),
                Err(_) => JsValue::NULL,
            },
        );
        let _ = set("source", source.files.0.describe().into());
        info = js_sys::Object::assign(&info.unchecked_into(), &extra).into();
        let parts = Parts {
            engine: loaded.engine,
            tokenizer: loaded.tokenizer,
            head: loaded.head,
        };
        let slot = Slot {
            parts: RefCell::new(Some(parts)),
            disposed: Cell::new(false),
        };
        Ok(Model {
            parts: Rc::new(slot),
            info,
        })
    }

    /// What the model is: architecture, layers, parameters, dtype, backend, bytes on the device,
    /// KV blocks, context length, special tokens.
    #[wasm_bindgen(getter)]
    pub fn info(&self) -> JsValue {
        self.info.clone()
    }

    /// Samples `options.n` continuations of `prompt` (text, tokenized without a chat template,
    /// or token ids) decoded together; `onText(index, piece)` streams their text, `onStep`
    /// runs after every decode step, `cancel` stops it. Resolves to
    /// `{ outputs: [{ text, tokens, finishReason, logprobs }], usage }`.
    pub fn generate(
        &self,
        prompt: JsValue,
        options: JsValue,
        on_text: Option<js_sys::Function>,
        on_step: Option<js_sys::Function>,
        cancel: &Cancel,
    ) -> js_sys::Promise {
        let shared = Rc::clone(&self.parts);
        let cancel = cancel.clone();
        future_to_promise(async move {
            let args: GenerateArgs = from_js(options, "generate options").map_err(to_js_error)?;
            let mut parts = take(&shared, "this model").map_err(to_js_error)?;
            if let Some(f) = on_step {
                parts.engine.set_step_hook(Some(step_hook(f)));
            }
            let result = run_generate(&mut parts, prompt, args, on_text, &cancel).await;
            put_back(&shared, parts);
            to_js(&result.map_err(to_js_error)?)
        })
    }

    /// One score per step of `steps` for `question`, reading the model as a PRM of `kind`
    /// (default: the kind its head implies; "generative" for a chat model).
    pub fn score(
        &self,
        question: String,
        steps: Vec<String>,
        kind: Option<String>,
    ) -> js_sys::Promise {
        let shared = Rc::clone(&self.parts);
        future_to_promise(async move {
            let parts = take(&shared, "this model").map_err(to_js_error)?;
            let (parts, scores) = run_score(parts, question, steps, kind).await;
            put_back(&shared, parts);
            let scores = scores.map_err(to_js_error)?;
            Ok(js_sys::Float32Array::from(scores.as_slice()).into())
        })
    }

    /// KV blocks the model's sequences hold now (0 between calls).
    #[wasm_bindgen(js_name = kvBlocksInUse)]
    pub fn kv_blocks_in_use(&self) -> Option<usize> {
        let parts = self.parts.parts.try_borrow().ok()?;
        Some(parts.as_ref()?.engine.backend().blocks().blocks_in_use())
    }

    /// Frees the model's weights and cache now (a running call frees them when it ends); later
    /// calls reject.
    pub fn dispose(&self) {
        self.parts.disposed.set(true);
        if let Ok(mut parts) = self.parts.parts.try_borrow_mut() {
            parts.take();
        }
    }

    /// Whether the model was disposed.
    #[wasm_bindgen(getter)]
    pub fn disposed(&self) -> bool {
        self.parts.disposed.get()
    }
}
