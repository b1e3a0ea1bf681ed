//! The `ttsearch` command line: diagnostics now; evaluation and benchmarks as the engine grows.

mod gpu_cmd;
mod grade_cmd;
mod info_cmd;
mod logits_cmd;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Gpu(args) => gpu_cmd::gpu(&args),
        Command::Selfcheck(args) => gpu_cmd::selfcheck(&args),
        Command::Grade(args) => grade_cmd::run(&args),
        Command::Info(args) => info_cmd::run(&args),
        Command::Logits(args) => logits_cmd::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error [{}]: {error}", error.code());
            ExitCode::from(2)
        }
    }
}
