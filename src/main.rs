#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]
//! `mammoscope [PATHS...]` opens the viewer; `mammoscope <SUBCOMMAND>` runs a command-line tool (see `cli::args`).

use std::process::ExitCode;

use clap::Parser as _;
use mammoscope::cli::{self, args::Cli};

/// mimalloc keeps freed pages for reuse: with the system allocator every large tensor (tens of MB in a training step
/// or a batch of patches) was a fresh `mmap`, and page faults plus zeroing took half the time of a robust training step.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = Cli::parse();
    cli::init_logging();
    match args.command {
        Some(command) => cli::run(command),
        None => match mammoscope::gui::run(args.paths, args.pixel_spacing) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => cli::fail(&cli::error_chain(&err)),
        },
    }
}
