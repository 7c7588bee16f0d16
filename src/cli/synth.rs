//! `mammoscope synth ...`: write simulated images to disk.

/// The simulators that can be run from the command line.
#[derive(Debug, clap::Subcommand)]
pub enum SynthCommand {
    /// Write a 4-view screening exam (R CC, L CC, R MLO, L MLO) of simulated full-field digital mammograms.
    Mammogram(MammogramArgs),
}

#[derive(Debug, clap::Args)]
pub struct MammogramArgs {
    /// Output directory.
    #[arg(long)]
    pub out: std::path::PathBuf,
    /// Random seed: the same seed gives the same exam.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(cmd: SynthCommand) -> anyhow::Result<()> {
    match cmd {
        SynthCommand::Mammogram(args) => anyhow::bail!("simulator not built yet (out {:?}, seed {})", args.out, args.seed),
    }
}
