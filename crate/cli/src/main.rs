//! The `ttsearch` command line: diagnostics, forward passes, generation and benchmarks.

mod bench_cmd;
mod eval_cmd;
mod eval_data;
mod eval_summary;
mod eval_summary_cmd;
mod generate_cmd;
mod gpu_cmd;
mod grade_cmd;
mod info_cmd;
mod logits_cmd;
mod model_args;
mod plots;
mod prm_bench_cmd;
mod remote_models;
mod score_cmd;
mod search_models;
mod shard;
mod solve_cmd;
mod tokenize_cmd;
mod tokenizer_source;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ttsearch",
    version,
    about = "Test-time search for small language models"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Describe the GPU adapter and the limits ttsearch requests.
    Gpu(gpu_cmd::GpuArgs),
    /// Check every GPU kernel against the CPU backend on random inputs.
    Selfcheck(gpu_cmd::SelfcheckArgs),
    /// Grade math answers: extraction, normalization and equivalence.
    Grade(grade_cmd::GradeArgs),
    /// Describe a model file: architecture, parameters, tensor types and sizes.
    Info(info_cmd::InfoArgs),
    /// Run token ids through a model (CPU backend, f32) and print the logits as JSON.
    Logits(logits_cmd::LogitsArgs),
    /// Sample n continuations of one prompt in batched decode steps and print them as JSON.
    Generate(generate_cmd::GenerateArgs),
    /// Prefill and batched decode throughput against the measured memory bandwidth.
    Bench(bench_cmd::BenchArgs),
    /// Token ids and vocabulary entries of a text.
    Tokenize(tokenize_cmd::TokenizeArgs),
    /// The exact prompt (text and ids) for a math problem, optionally continuing a partial solution.
    Prompt(tokenize_cmd::PromptArgs),
    /// A process reward model's score for every step of a solution.
    Score(score_cmd::ScoreArgs),
    /// PRM tokens fed and scoring time per iteration in a simulated beam search.
    PrmBench(prm_bench_cmd::PrmBenchArgs),
    /// Search for the answer to one problem (Best-of-N, beam search, DVTS, ...).
    Solve(solve_cmd::SolveArgs),
    /// Evaluate a search strategy on MATH-500 / AIME24 problems for several budgets.
    Eval(eval_cmd::EvalArgs),
    /// Merge `eval` folders (shards, machines, strategies) into one summary.json with SVG plots.
    EvalSummary(eval_summary_cmd::EvalSummaryArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Gpu(args) => gpu_cmd::gpu(&args),
        Command::Selfcheck(args) => gpu_cmd::selfcheck(&args),
        Command::Grade(args) => grade_cmd::run(&args),
        Command::Info(args) => info_cmd::run(&args),
        Command::Logits(args) => logits_cmd::run(&args),
        Command::Generate(args) => generate_cmd::run(&args),
        Command::Bench(args) => bench_cmd::run(&args),
        Command::Tokenize(args) => tokenize_cmd::tokenize(&args),
        Command::Prompt(args) => tokenize_cmd::prompt(&args),
        Command::Score(args) => score_cmd::run(&args),
        Command::PrmBench(args) => prm_bench_cmd::run(&args),
        Command::Solve(args) => solve_cmd::run(&args),
        Command::Eval(args) => eval_cmd::run(&args),
        Command::EvalSummary(args) => eval_summary_cmd::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error [{}]: {error}", error.code());
            ExitCode::from(2)
        }
    }
}
