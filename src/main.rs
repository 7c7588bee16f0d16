#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]
//! `mammoscope [PATHS...]` opens the viewer; `mammoscope <SUBCOMMAND>` runs a command-line tool (see `cli::args`).

use std::process::ExitCode;

use clap::Parser as _;
use mammoscope::cli::{self, args::Cli};

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
