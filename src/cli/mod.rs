//! Command-line subcommands, one file each, and what they share: logging, dispatch and one-line errors.
//!
//! Every subcommand returns `anyhow::Result`; [`run`] turns an error (or a panic) into exactly one line
//! `mammoscope: <message>` on stderr and exit status 2.

pub mod analyze;
pub mod analyze_cdc;
pub mod analyze_denoise;
pub mod args;
pub mod bench;
pub mod evaluate;
pub mod evaluate_background;
pub mod evaluate_cdc;
pub mod info;
pub mod info_report;
pub mod perturb;
pub mod readout;
pub mod render;
pub mod synth;
pub mod synth_cdmam;
pub mod train;
pub mod train_cdc;
pub mod train_denoise;

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::dicom::LoadedImage;
use crate::imaging::{Image, histogram::robust_window, voi::Window};
use args::Command;

/// Where the last panic happened, for the one-line report.
static LAST_PANIC_LOCATION: parking_lot::Mutex<Option<String>> = parking_lot::Mutex::new(None);

/// Log to stderr, filtered by `RUST_LOG` (default `warn`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::builder()
        .with_default_directive(tracing_subscriber::filter::LevelFilter::WARN.into())
        .from_env_lossy();
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

/// Run one subcommand; errors and panics become one stderr line and exit status 2.
#[must_use]
pub fn run(command: Command) -> ExitCode {
    // A panic (in a decoder, say) must not print the multi-line banner: remember where it happened and report it as
    // one line below. Panics that a lower layer catches itself stay silent (logged at debug level).
    panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        tracing::debug!("panic at {location}: {}", panic_message(info.payload()));
        *LAST_PANIC_LOCATION.lock() = Some(location);
    }));
    let result = panic::catch_unwind(AssertUnwindSafe(|| dispatch(command)));
    drop(panic::take_hook());
    match result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(err)) => fail(&error_chain(&err)),
        Err(payload) => {
            let location = LAST_PANIC_LOCATION.lock().take().unwrap_or_default();
            fail(&format!("internal error (please report): {} at {location}", panic_message(payload.as_ref())))
        }
    }
}

fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Info(a) => info::run(&a),
        Command::Render(a) => render::run(&a),
        Command::Synth(c) => synth::run(c),
        Command::Bench(c) => bench::run(&c),
        Command::Perturb(a) => perturb::run(&a),
        Command::Analyze(c) => analyze::run(&c),
        Command::Train(c) => train::run(c),
        Command::Evaluate(c) => evaluate::run(c),
        Command::Readout(c) => readout::run(&c),
    }
}

/// Print `mammoscope: <message>` as a single line and return exit status 2.
#[must_use]
pub fn fail(message: &str) -> ExitCode {
    let one_line: String = message.split_whitespace().collect::<Vec<_>>().join(" ");
    eprintln!("mammoscope: {one_line}");
    ExitCode::from(2)
}

/// The error and its causes on one line, `a: b: c`, leaving out a cause its parent already quotes
/// (the input layer's messages include their `source`).
#[must_use]
pub fn error_chain(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_owned()
    }
}

/// Frame `index` (0-based) of an opened image, or an error naming the frame count.
pub(crate) fn frame(loaded: &LoadedImage, index: usize) -> anyhow::Result<&Image> {
    loaded.frames.get(index).with_context(|| {
        format!("frame {index} out of range: the image has {} frame(s), numbered from 0 ({})", loaded.frames.len(), loaded.path.display())
    })
}

/// Run `write` on a temporary file beside `out`, then rename it over `out`; the temporary file is removed on error
/// ([`crate::dicom::atomic::write_atomically_with`] with the command line's messages).
pub(crate) fn write_atomically(
    out: &std::path::Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    out.file_name().with_context(|| format!("--out must name a file ({})", out.display()))?;
    crate::dicom::atomic::write_atomically_with(out, write).with_context(|| format!("cannot write {}", out.display()))
}

/// The window the viewer shows first: the file's first preset (the reader lists them in order, with an
/// automatic one when the file has none), else the robust histogram window of the frame.
pub(crate) fn default_window(loaded: &LoadedImage, image: &Image) -> Window {
    loaded.meta.voi.presets.first().map_or_else(|| robust_window(image), |p| p.window)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read file: {source}")]
    struct Quoting {
        source: std::io::Error,
    }

    #[test]
    fn error_chain_is_one_line_without_repeats() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let err = anyhow::Error::new(Quoting { source: io }).context("opening a.dcm");
        assert_eq!(error_chain(&err), "opening a.dcm: cannot read file: gone");
        assert_eq!(panic_message(&"boom"), "boom");
        assert_eq!(panic_message(&String::from("bang")), "bang");
    }
}
