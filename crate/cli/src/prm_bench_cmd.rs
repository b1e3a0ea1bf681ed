//! `ttsearch prm-bench`: the PRM side of a simulated beam search (N candidates, keep N/M, refill
//! by forking each kept beam M times, one step of S tokens per iteration), on random weights of a
//! real shape: tokens ttsearch feeds (each step once, on forked KV caches) against what a PRM
//! without a cache feeds under search-and-learn's rule (every candidate's whole prefix, every
//! iteration), and the scoring time per iteration.

use crate::model_args::ModelArgs;
use clap::Args;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;
use ttsearch::engine::{AnyBackend, Backend};
use ttsearch::kv::SeqId;
use ttsearch::load::Device;
use ttsearch::prm::{Prm, PrmFormat, PrmHead};
use ttsearch::{Error, Result, block_on};

#[derive(Args, Debug)]
pub struct PrmBenchArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Candidates per iteration (N).
    #[arg(long, default_value_t = 16)]
    n: usize,
    /// Beam width (M): N / M beams are kept and each forked M times.
    #[arg(long, default_value_t = 4)]
    beam_width: usize,
    /// Iterations (steps per beam).
    #[arg(long, default_value_t = 10)]
    num_iterations: usize,
    /// Tokens per step, marker included.
    #[arg(long, default_value_t = 60)]
    step_tokens: usize,
    /// Tokens of the question prefix.
    #[arg(long, default_value_t = 100)]
    prefix_tokens: usize,
}

#[derive(Serialize)]
struct Report {
    model: String,
    device: String,
    dtype: String,
    n: usize,
    beam_width: usize,
    num_iterations: usize,
    step_tokens: usize,
    prefix_tokens: usize,
    tokens_fed: u64,
    sal_rule_tokens: u64,
    ratio: f64,
    seconds_per_iteration: Vec<f64>,
    mean_seconds_per_iteration: f64,
    kv_blocks_peak: usize,
}

fn simulate(prm: &mut Prm<AnyBackend>, args: &PrmBenchArgs) -> Result<Vec<f64>> {
    let vocab = prm.engine().backend().config().vocab_size as u32;
    let mut rng = rand::rngs::SmallRng::seed_from_u64(3);
    let mut tokens =
        |n: usize| -> Vec<u32> { (0..n).map(|_| rng.random_range(0..vocab)).collect() };
    let root = block_on(prm.start_tokens("", &tokens(args.prefix_tokens)))?;
    let mut beams: Vec<SeqId> = prm.fork(root, args.n)?;
    prm.release(root)?;
    let keep = args.n / args.beam_width;
    let mut times = Vec::with_capacity(args.num_iterations);
    let bar = indicatif::ProgressBar::new(args.num_iterations as u64);
    for _ in 0..args.num_iterations {
        let chunks: Vec<(SeqId, Vec<u32>)> = beams
            .iter()
            .map(|&b| (b, tokens(args.step_tokens)))
            .collect();
        let t = Instant::now();
        let scores = block_on(prm.score_chunks(&chunks))?;
        times.push(t.elapsed().as_secs_f64());
        // Keep the best N / M, refill to N by forking each kept beam M times.
        let mut order: Vec<usize> = (0..beams.len()).collect();
        order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
        let mut next = Vec::with_capacity(args.n);
        for (rank, &i) in order.iter().enumerate() {
            if rank < keep {
                next.extend(prm.fork(beams[i], args.beam_width)?);
            }
            prm.release(beams[i])?;
        }
        beams = next;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(times)
}

pub fn run(args: &PrmBenchArgs) -> Result<ExitCode> {
    if args.n == 0
        || args.beam_width == 0
        || !args.n.is_multiple_of(args.beam_width)
        || args.step_tokens == 0
        || args.prefix_tokens < 2
    {
        return Err(Error::InvalidArgument(
            "n must be a positive multiple of beam_width; step and prefix tokens at least 1 and 2"
                .into(),
        ));
    }
    let config = args.model.config()?;
    let positions = args.prefix_tokens + args.num_iterations * args.step_tokens;
    let bs = args.model.block_size.max(1);
    let blocks = 2 * args.n * (positions.div_ceil(bs) + 1);
    let mut rng = rand::rngs::SmallRng::seed_from_u64(5);
    let head = PrmHead::Value {
        weight: (0..config.hidden_size)
            .map(|_| rng.random_range(-0.05f32..0.05))
            .collect(),
        bias: 0.0,
    };
    let device = args.model.backend.device()?;
    let name = match &device {
        Device::Cpu => {
            let threads = std::thread::available_parallelism().map_or(1, usize::from);
            format!("cpu ({threads} threads)")
        }
        Device::Gpu(ctx) => ctx.report().name.clone(),
    };
    let engine = args.model.engine(device, blocks)?;
    let mut prm = Prm::from_tokens(engine, head, PrmFormat::Skywork);
    let times = simulate(&mut prm, args)?;
    let (device, fed, sal, peak) = (
        name,
        prm.tokens_fed(),
        prm.rescore_tokens(),
        prm.engine().counters().kv_blocks_peak,
    );
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    let report = Report {
        model: args.model.name(),
        device,
        dtype: args.model.format()?.name().to_string(),
        n: args.n,
        beam_width: args.beam_width,
        num_iterations: args.num_iterations,
        step_tokens: args.step_tokens,
        prefix_tokens: args.prefix_tokens,
        tokens_fed: fed,
        sal_rule_tokens: sal,
        ratio: sal as f64 / fed.max(1) as f64,
        seconds_per_iteration: times,
        mean_seconds_per_iteration: mean,
        kv_blocks_peak: peak,
    };
    let json = serde_json::to_string(&report).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    let _ = writeln!(std::io::stdout(), "{json}");
    Ok(ExitCode::SUCCESS)
}
