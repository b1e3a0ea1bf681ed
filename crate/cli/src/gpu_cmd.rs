//! `ttsearch gpu` and `ttsearch selfcheck`: the adapter report and the kernel self-check.

use clap::Args;
use std::process::ExitCode;
use ttsearch::gpu::GpuContext;
use ttsearch::{Result, block_on, selfcheck};

#[derive(Args)]
pub struct GpuArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct SelfcheckArgs {
    /// Seed of the random inputs (default: from the clock).
    #[arg(long)]
    seed: Option<u64>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

pub fn gpu(args: &GpuArgs) -> Result<ExitCode> {
    let ctx = block_on(GpuContext::new())?;
    let r = ctx.report();
    if args.json {
        println!("{}", to_json(r));
    } else {
        println!(
            "adapter:      {} ({}, {})",
            r.name, r.backend, r.device_type
        );
        println!("driver:       {} {}", r.driver, r.driver_info);
        println!("shader-f16:   {}", r.shader_f16);
        println!("max buffer:   {} bytes", r.limits.max_buffer_size);
        println!(
            "max binding:  {} bytes",
            r.limits.max_storage_buffer_binding_size
        );
        println!(
            "workgroup:    {} invocations, {} bytes shared",
            r.limits.max_compute_invocations_per_workgroup,
            r.limits.max_compute_workgroup_storage_size
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn selfcheck(args: &SelfcheckArgs) -> Result<ExitCode> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    });
    let ctx = block_on(GpuContext::new())?;
    let report = block_on(selfcheck::run(&ctx, seed))?;
    if args.json {
        println!("{}", to_json(&report));
    } else {
        println!("adapter: {} ({})", ctx.report().name, ctx.report().backend);
        for case in &report.cases {
            println!(
                "{:<10} {:<16} max|err| {:.2e} (tol {:.2e}) {}",
                case.kernel,
                format!("{:?}", case.shape),
                case.max_abs_error,
                case.tolerance,
                if case.passed { "ok" } else { "FAIL" }
            );
        }
        println!(
            "seed {}: {}",
            report.seed,
            if report.passed {
                "all passed"
            } else {
                "FAILED"
            }
        );
    }
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
