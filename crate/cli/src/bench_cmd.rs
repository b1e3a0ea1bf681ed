//! `ttsearch bench`: prefill and batched decode throughput per batch size against the machine's
//! measured memory-copy bandwidth, on a checkpoint or on random weights of a real shape.

use crate::model_args::{ModelArgs, parse_list};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;
use ttsearch::engine::{AnyBackend, Backend, Engine, ExtendOptions, SamplingParams};
use ttsearch::gpu::GpuContext;
use ttsearch::load::Device;
use ttsearch::model::GpuStats;
use ttsearch::model::ModelConfig;
use ttsearch::quant::{WeightFormat, WeightMatrix};
use ttsearch::{Error, Result, block_on};

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Comma-separated batch sizes (sequences decoding together).
    #[arg(long, default_value = "1,4,16,64")]
    batch: String,
    /// Prompt tokens, prefilled once per batch size and shared by the batch.
    #[arg(long, default_value_t = 256)]
    prompt_len: usize,
    /// Decode steps per batch size.
    #[arg(long = "gen", default_value_t = 128)]
    gen_tokens: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Row {
    batch: usize,
    prefill_tokens_per_s: f64,
    decode_steps_per_s: f64,
    decode_tokens_per_s: f64,
    weight_bandwidth_gb_s: f64,
    bandwidth_ratio: f64,
    kv_blocks_peak: usize,
    kv_bytes_peak: u64,
    /// GPU only: per decode step, on average.
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu_per_step: Option<StepCounts>,
}

/// What one GPU decode step records and allocates, on average.
#[derive(Serialize, Clone, Copy)]
struct StepCounts {
    dispatches: f64,
    copies: f64,
    bind_groups_created: f64,
    buffers_created: f64,
    /// Weight bytes the kernels read (from their shapes and tiles).
    weight_bytes_read: f64,
    /// Cached key and value bytes the attention kernels read.
    kv_bytes_read: f64,
    /// GPU time of the step's compute passes from timestamp queries, where the adapter has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu_ms: Option<f64>,
}

#[derive(Serialize)]
struct Report {
    model: String,
    backend: String,
    device: String,
    dtype: String,
    prompt_len: usize,
    #[serde(rename = "gen")]
    gen_tokens: usize,
    weight_bytes_per_step: u64,
    memory_copy_gb_s: f64,
    peak_rss_bytes: Option<u64>,
    rows: Vec<Row>,
}

/// Bytes one decode step reads: every matrix once (the LM head is the embedding when tied),
/// norms and biases; embedding lookups read a few rows and are left out.
fn weight_bytes(config: &ModelConfig, format: WeightFormat) -> Result<u64> {
    let c = config;
    let mat = |rows: usize, cols: usize, f: WeightFormat| -> Result<u64> {
        // Byte size of a matrix in this format, from a one-row matrix of the same width.
        let row = WeightMatrix::from_f32(vec![0.0; cols], 1, cols, f)?.byte_len() as u64;
        Ok(row * rows as u64)
    };
    let (h, i) = (c.hidden_size, c.intermediate_size);
    let (q, kv) = (
        c.num_attention_heads * c.head_dim,
        c.num_key_value_heads * c.head_dim,
    );
    let layer = mat(q, h, format)?
        + 2 * mat(kv, h, format)?
        + mat(h, q, format)?
        + 2 * mat(i, h, format)?
        + mat(h, i, format)?
        + 4 * 4 * h as u64;
    let head = mat(c.vocab_size, h, ttsearch::model::vocab_format(format))?;
    Ok(layer * c.num_hidden_layers as u64 + head)
}

/// Bytes one decode step reads from loaded host weights: every layer matrix, the LM head, norms
/// and biases (as [`weight_bytes`] counts them).
fn loaded_weight_bytes(w: &ttsearch::model::ModelWeights) -> u64 {
    let vec = |v: &Vec<f32>| 4 * v.len() as u64;
    let lin = |l: &ttsearch::model::Linear<WeightMatrix, Vec<f32>>| {
        l.weight.byte_len() as u64 + l.bias.as_ref().map_or(0, vec)
    };
    let layers: u64 = w
        .layers
        .iter()
        .map(|l| {
            [
                &l.q_proj,
                &l.k_proj,
                &l.v_proj,
                &l.o_proj,
                &l.gate_proj,
                &l.up_proj,
                &l.down_proj,
            ]
            .into_iter()
            .map(lin)
            .sum::<u64>()
                + vec(&l.input_layernorm)
                + vec(&l.pre_feedforward_layernorm)
        })
        .sum();
    layers + w.lm_head().byte_len() as u64 + vec(&w.norm)
}

/// Best of a few timed copies of a 256 MiB buffer in host memory (bytes copied per second).
fn host_copy_bandwidth() -> f64 {
    let n = 64 << 20;
    let src = vec![1.0f32; n];
    let mut dst = vec![0.0f32; n];
    (0..5)
        .map(|_| {
            let t = Instant::now();
            dst.copy_from_slice(&src);
            std::hint::black_box(&dst);
            (n * 4) as f64 / t.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

/// Best of a few timed buffer-to-buffer copies of up to 256 MiB on the device.
fn gpu_copy_bandwidth(ctx: &GpuContext) -> Result<f64> {
    let limit = ctx
        .limits()
        .max_storage_buffer_binding_size
        .min(ctx.limits().max_buffer_size);
    let words = ((256u64 << 20).min(limit) / 4) as usize;
    let (src, dst) = (
        ctx.create_buffer(words, "copy src")?,
        ctx.create_buffer(words, "copy dst")?,
    );
    let fence = ctx.create_buffer(1, "fence")?;
    let mut best = 0.0f64;
    for _ in 0..5 {
        let t = Instant::now();
        let mut b = ctx.batch();
        b.copy(&src, 0, &dst, 0, words)?;
        b.copy(&dst, 0, &fence, 0, 1)?;
        block_on(b.submit())?;
        block_on(ctx.read_f32(&fence))?;
        best = best.max((words * 4) as f64 / t.elapsed().as_secs_f64());
    }
    Ok(best)
}

fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn bench_batch(
    engine: &mut Engine<AnyBackend>,
    args: &BenchArgs,
    batch: usize,
    bytes_per_step: u64,
    copy_bw: f64,
    bar: &ProgressBar,
) -> Result<Row> {
    let config = engine.backend().config().clone();
    let prompt: Vec<u32> = (0..args.prompt_len)
        .map(|i| ((i * 7919 + 13) % config.vocab_size) as u32)
        .collect();
    let t = Instant::now();
    let root = block_on(engine.prefill(&prompt))?;
    block_on(engine.backend().synchronize())?;
    let prefill_s = t.elapsed().as_secs_f64();
    let gpu_before = gpu_stats(engine);
    let seqs = engine.fork(root, batch)?;
    engine.release(root)?;
    let params = SamplingParams {
        temperature: 1.0,
        seed: 7,
        max_tokens: args.gen_tokens,
        ignore_eos: true,
        ..SamplingParams::default()
    };
    let t = Instant::now();
    let mut on_text = |_: ttsearch::kv::SeqId, _: &str| {};
    let outs = block_on(engine.extend(
        &seqs,
        &params,
        ExtendOptions {
            on_text: Some(&mut on_text),
            ..ExtendOptions::default()
        },
    ))?;
    let decode_s = t.elapsed().as_secs_f64();
    bar.inc(1);
    let per_step = gpu_stats(engine).zip(gpu_before).map(|(after, before)| {
        let (d, d0) = (after.dispatch, before.dispatch);
        let created = |s: &GpuStats| s.temporaries.created + s.uploads.created;
        let n = (d.submits - d0.submits).max(1) as f64;
        StepCounts {
            dispatches: (d.dispatches - d0.dispatches) as f64 / n,
            copies: (d.copies - d0.copies) as f64 / n,
            bind_groups_created: (d.bind_groups_created - d0.bind_groups_created) as f64 / n,
            buffers_created: (created(&after) - created(&before)) as f64 / n,
            weight_bytes_read: (d.weight_bytes_read - d0.weight_bytes_read) as f64 / n,
            kv_bytes_read: (d.kv_bytes_read - d0.kv_bytes_read) as f64 / n,
            gpu_ms: (d.timed_submits > d0.timed_submits).then(|| {
                (d.gpu_time_ns - d0.gpu_time_ns) as f64
                    / 1e6
                    / (d.timed_submits - d0.timed_submits) as f64
            }),
        }
    });
    let steps = outs.iter().map(|o| o.tokens.len()).max().unwrap_or(0) as f64;
    let tokens: usize = outs.iter().map(|o| o.tokens.len()).sum();
    let counters = engine.counters();
    let block_bytes = (engine.backend().blocks().block_size()
        * 2
        * config.num_hidden_layers
        * config.num_key_value_heads
        * config.head_dim
        * 4) as u64;
    for s in seqs {
        engine.release(s)?;
    }
    let steps_per_s = steps / decode_s;
    let bandwidth = bytes_per_step as f64 * steps_per_s;
    Ok(Row {
        batch,
        prefill_tokens_per_s: (args.prompt_len.saturating_sub(1)) as f64 / prefill_s,
        decode_steps_per_s: steps_per_s,
        decode_tokens_per_s: tokens as f64 / decode_s,
        weight_bandwidth_gb_s: bandwidth / 1e9,
        bandwidth_ratio: bandwidth / copy_bw,
        kv_blocks_peak: counters.kv_blocks_peak,
        kv_bytes_peak: counters.kv_blocks_peak as u64 * block_bytes,
        gpu_per_step: per_step,
    })
}

/// The GPU model's dispatch and pool counters (none on the CPU).
fn gpu_stats(engine: &Engine<AnyBackend>) -> Option<GpuStats> {
    match engine.backend() {
        AnyBackend::Gpu(b) => Some(b.model.stats()),
        AnyBackend::Cpu(_) => None,
    }
}

/// Every batch size on one engine.
fn bench_all(
    engine: &mut Engine<AnyBackend>,
    args: &BenchArgs,
    batches: &[usize],
    bytes_per_step: u64,
    copy_bw: f64,
    bar: &ProgressBar,
) -> Result<Vec<Row>> {
    bar.set_message("benchmarking");
    batches
        .iter()
        .map(|&b| bench_batch(engine, args, b, bytes_per_step, copy_bw, bar))
        .collect()
}

pub fn run(args: &BenchArgs) -> Result<ExitCode> {
    let batches: Vec<usize> = parse_list("batch size", &args.batch)?;
    if batches.contains(&0) || args.prompt_len == 0 || args.gen_tokens == 0 {
        return Err(Error::InvalidArgument(
            "batch sizes, --prompt-len and --gen must be at least 1".into(),
        ));
    }
    let config = args.model.config()?;
    let format = args.model.format()?;
    if args.prompt_len + args.gen_tokens > config.max_position_embeddings {
        return Err(Error::InvalidArgument(format!(
            "--prompt-len + --gen exceed the model's {} positions",
            config.max_position_embeddings
        )));
    }
    let mut bytes_per_step = weight_bytes(&config, format)?;
    let bs = args.model.block_size.max(1);
    let largest = batches.iter().copied().max().unwrap_or(1);
    let blocks = args.prompt_len.div_ceil(bs) + largest * ((args.gen_tokens + bs) / bs + 1);
    let bar = ProgressBar::new(batches.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} batch sizes ({elapsed})")
            .map_err(|e| Error::InvalidArgument(e.to_string()))?,
    );
    bar.set_message("loading");
    let device = args.model.backend.device()?;
    let (name, copy_bw) = match &device {
        Device::Cpu => {
            let threads = std::thread::available_parallelism().map_or(1, usize::from);
            (format!("cpu ({threads} threads)"), host_copy_bandwidth())
        }
        Device::Gpu(ctx) => (ctx.report().name.clone(), gpu_copy_bandwidth(ctx)?),
    };
    let mut engine = args.model.engine(device, blocks)?;
    if let AnyBackend::Gpu(b) = engine.backend_mut() {
        b.model.set_timing(true);
        // The uploaded matrices' own sizes (GGUF blocks kept as the file holds them).
        bytes_per_step = b.model.step_matrix_bytes();
    }
    if let AnyBackend::Cpu(b) = engine.backend() {
        // The loaded matrices' own sizes (a GGUF file's blocks differ from matrix to matrix).
        bytes_per_step = loaded_weight_bytes(b.model.weights());
    }
    let rows = bench_all(&mut engine, args, &batches, bytes_per_step, copy_bw, &bar)?;
    let device = name;
    bar.finish_and_clear();
    let report = Report {
        model: args.model.name(),
        backend: format!("{:?}", args.model.backend).to_lowercase(),
        device,
        dtype: format.name().to_string(),
        prompt_len: args.prompt_len,
        gen_tokens: args.gen_tokens,
        weight_bytes_per_step: bytes_per_step,
        memory_copy_gb_s: copy_bw / 1e9,
        peak_rss_bytes: peak_rss(),
        rows,
    };
    let mut out = std::io::stdout();
    if args.json {
        let json =
            serde_json::to_string(&report).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        let _ = writeln!(out, "{json}");
    } else {
        let _ = writeln!(
            out,
            "{} on {} ({}), {} MB of weights per step, memory copy {:.1} GB/s",
            report.model,
            report.device,
            report.dtype,
            bytes_per_step / 1_000_000,
            report.memory_copy_gb_s
        );
        let _ = writeln!(
            out,
            "batch  prefill tok/s  decode steps/s  decode tok/s  weight GB/s  of copy bw  KV MB"
        );
        for r in &report.rows {
            let _ = writeln!(
                out,
                "{:>5}  {:>13.1}  {:>14.2}  {:>12.1}  {:>11.2}  {:>10.2}  {:>5.1}",
                r.batch,
                r.prefill_tokens_per_s,
                r.decode_steps_per_s,
                r.decode_tokens_per_s,
                r.weight_bandwidth_gb_s,
                r.bandwidth_ratio,
                r.kv_bytes_peak as f64 / 1e6
            );
        }
        for r in &report.rows {
            if let Some(g) = r.gpu_per_step {
                let _ = writeln!(
                    out,
                    "batch {:>3} per decode step: {:.0} dispatches, {:.0} copies, {:.2} bind groups \
                     created, {:.2} buffers created, {:.1} MB of weights read ({:.2}x the model), \
                     {:.2} MB of KV read{}",
                    r.batch,
                    g.dispatches,
                    g.copies,
                    g.bind_groups_created,
                    g.buffers_created,
                    g.weight_bytes_read / 1e6,
                    g.weight_bytes_read / report.weight_bytes_per_step.max(1) as f64,
                    g.kv_bytes_read / 1e6,
                    g.gpu_ms
                        .map(|ms| format!(", {ms:.2} ms of GPU time"))
                        .unwrap_or_default()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
