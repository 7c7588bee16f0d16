#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]
//! `mammoscope [PATHS...]` opens the viewer; `mammoscope <SUBCOMMAND>` runs a command-line tool (see `cli::args`).

use std::process::ExitCode;

use clap::Parser as _;
use mammoscope::cli::{self, args::Cli};

/// mimalloc keeps freed pages for reuse: with glibc's allocator the large, short-lived tensors of inference (im2col
/// matrices and layer outputs, MBs each, every batch) came back as fresh pages (1.6 M page faults in a `bench calc`
/// run against 37 k), and inference per patch took 1.9× as long.
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
