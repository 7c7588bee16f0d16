//! Background jobs: the only module that spawns threads. Progress reporting and cancellation.
//!
//! ```no_run
//! # fn demo(ctx: egui::Context) -> anyhow::Result<()> {
//! let mut job = mammoscope::jobs::spawn("count", ctx, |r: &mammoscope::jobs::Reporter<u32>| {
//!     for i in 0..10 {
//!         if r.is_cancelled() { anyhow::bail!("cancelled"); }
//!         r.step(i, 10, "counting");
//!         r.output(i);
//!     }
//!     Ok(())
//! })?;
//! while let Some(message) = job.next_message() { let _ = message; }
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, Sender};

/// What a job tells the UI.
#[derive(Debug)]
pub enum Message<T> {
    /// Progress: `done` of `total` units, with a short label.
    Step { done: u32, total: u32, label: String },
    /// A piece of the result (e.g. one loaded file), delivered as soon as it is ready.
    Output(T),
    /// The job ended; `Err` carries the reason (including cancellation).
    Finished(anyhow::Result<()>),
}

/// The worker's handle: sends messages and wakes the UI.
pub struct Reporter<T> {
    tx: Sender<Message<T>>,
    egui_ctx: Option<egui::Context>,
    cancel: Arc<AtomicBool>,
}

impl<T> Reporter<T> {
    fn send(&self, message: Message<T>) {
        self.tx.send(message).ok();
        if let Some(ctx) = &self.egui_ctx {
            ctx.request_repaint(); // wake up the UI thread
        }
    }

    pub fn step(&self, done: u32, total: u32, label: impl Into<String>) {
        self.send(Message::Step { done, total, label: label.into() });
    }

    pub fn output(&self, value: T) {
        self.send(Message::Output(value));
    }

    /// True once the UI asked the job to stop; workers check it between units of work.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// The UI's handle on a running job.
pub struct Job<T> {
    pub name: &'static str,
    rx: Receiver<Message<T>>,
    cancel: Arc<AtomicBool>,
    progress: Option<(u32, u32, String)>,
    finished: bool,
}

impl<T> Job<T> {
    /// Ask the worker to stop at its next check.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The next message that arrived, if any, keeping the latest progress for [`Job::progress`]. Callers with a
    /// time budget take messages one by one and stop early; the rest stay queued for the next frame.
    pub fn next_message(&mut self) -> Option<Message<T>> {
        if let Ok(message) = self.rx.try_recv() {
            match &message {
                Message::Step { done, total, label } => self.progress = Some((*done, *total, label.clone())),
                Message::Finished(_) => self.finished = true,
                Message::Output(_) => {}
            }
            return Some(message);
        }
        // Only the UI holds the flag once the worker's reporter is dropped; checked before `is_empty`,
        // so a Finished sent just before the drop is still seen. Gone without Finished means it panicked.
        if !self.finished && Arc::strong_count(&self.cancel) == 1 && self.rx.is_empty() {
            self.finished = true;
            return Some(Message::Finished(Err(anyhow::anyhow!("background job {:?} crashed", self.name))));
        }
        None
    }

    /// Every message that arrived (see [`Job::next_message`]).
    pub fn poll(&mut self) -> Vec<Message<T>> {
        std::iter::from_fn(|| self.next_message()).collect()
    }

    /// `(done, total, label)` of the latest step.
    pub fn progress(&self) -> Option<&(u32, u32, String)> {
        self.progress.as_ref()
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

/// Run `work` on a named thread. Messages go through a bounded channel (back-pressure on chatty workers).
pub fn spawn<T: Send + 'static>(
    name: &'static str,
    egui_ctx: impl Into<Option<egui::Context>>,
    work: impl FnOnce(&Reporter<T>) -> anyhow::Result<()> + Send + 'static,
) -> anyhow::Result<Job<T>> {
    let (tx, rx) = crossbeam_channel::bounded(256);
    let cancel = Arc::new(AtomicBool::new(false));
    let reporter = Reporter { tx, egui_ctx: egui_ctx.into(), cancel: cancel.clone() };
    std::thread::Builder::new().name(name.to_owned()).spawn(move || {
        let result = work(&reporter);
        reporter.send(Message::Finished(result));
    })?;
    Ok(Job { name, rx, cancel, progress: None, finished: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain<T>(job: &mut Job<T>) -> Vec<Message<T>> {
        let mut all = Vec::new();
        for _ in 0..1000 {
            all.extend(job.poll());
            if job.is_finished() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        all
    }

    #[test]
    fn outputs_then_finishes() {
        let mut job = spawn("t", None, |r: &Reporter<u32>| {
            r.step(0, 2, "a");
            r.output(7);
            Ok(())
        })
        .unwrap();
        let all = drain(&mut job);
        assert!(all.iter().any(|m| matches!(m, Message::Output(7))));
        assert!(matches!(all.last(), Some(Message::Finished(Ok(())))));
        assert_eq!(job.progress().map(|p| p.1), Some(2));
    }

    #[test]
    fn cancel_is_seen_by_worker() {
        let mut job = spawn("t", None, |r: &Reporter<()>| {
            for _ in 0..10_000 {
                if r.is_cancelled() {
                    anyhow::bail!("cancelled");
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Ok(())
        })
        .unwrap();
        job.cancel();
        let all = drain(&mut job);
        assert!(matches!(all.last(), Some(Message::Finished(Err(_)))));
    }
}
