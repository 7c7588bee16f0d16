//! `mammoscope synth cdmam`: a set of simulated CDMAM 3.4 exposures (DICOM MG For Processing) with JSON truth.
//!
//! Writes `cdmam_NN.dcm` + `cdmam_NN.json` (the truth: every cell's diameter, thickness, true corner and disc
//! positions) per exposure, and `cdmam_set.json` with the settings and the ideal-observer thresholds the readout can
//! be checked against. Settings start from `--scenario` (the OMIG paper's Table 1) or the defaults; any explicit
//! option overrides them.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::dicom::{
    atomic::write_file_atomically,
    write::{MammogramObject, NamedWindow, PresentationIntent, TransferSyntax, uid_from_seed, write_mammogram},
};
use crate::imaging::{Image, voi::Window};
use crate::phantom::cdmam::{Layout, tables};
use crate::synth::cdmam::{CdmamParams, SCENARIOS, ideal_observer_threshold_um, scenario, simulate, truth};

#[derive(Debug, clap::Args)]
pub struct CdmamArgs {
    /// Output directory (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Number of exposures (the protocol asks for at least 16).
    #[arg(long, default_value_t = 16)]
    pub n: u32,
    /// Start from the OMIG paper's scenario: 1, 2, 3, 4 (rising noise) or ood.
    #[arg(long, value_parser = parse_scenario)]
    pub scenario: Option<String>,
    /// Tube current-time product, mAs (the dose; default 100).
    #[arg(long, alias = "mas", value_name = "MAS")]
    pub dose: Option<f64>,
    /// Tube voltage, kVp (default 28).
    #[arg(long)]
    pub kvp: Option<f64>,
    /// System blur: Gaussian PSF standard deviation, mm (default 0.06).
    #[arg(long, value_name = "MM")]
    pub blur: Option<f64>,
    /// Electronic noise, standard deviation in detected quanta per pixel (default 5).
    #[arg(long)]
    pub noise: Option<f64>,
    /// Correlation of the electronic noise: Gaussian filter sigma in mm (default 0 = white).
    #[arg(long, value_name = "MM")]
    pub noise_corr: Option<f64>,
    /// Margin around the cell matrix, mm (0 = tight crop; default 10).
    #[arg(long, value_name = "MM")]
    pub margin: Option<f64>,
    /// Pixel size in the phantom plane, mm (default 0.07).
    #[arg(long, value_name = "MM")]
    pub pixel_mm: Option<f64>,
    /// Leave out the printed text around the matrix.
    #[arg(long)]
    pub no_text: bool,
    /// Use a random disc layout (seeded) instead of the standard CDMAM 3.4 layout.
    #[arg(long)]
    pub random_layout: bool,
    /// Random seed: the same seed and settings give the same images.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write Explicit VR Little Endian instead of Deflated.
    #[arg(long)]
    pub uncompressed: bool,
}

fn parse_scenario(s: &str) -> Result<String, String> {
    if scenario(s).is_some() { Ok(s.to_owned()) } else { Err(format!("unknown scenario {s:?}: one of {}", SCENARIOS.join(", "))) }
}

/// The settings the arguments ask for.
pub fn params(args: &CdmamArgs) -> anyhow::Result<CdmamParams> {
    let mut p = args.scenario.as_deref().and_then(scenario).unwrap_or_default();
    let set = |field: &mut f64, value: Option<f64>| {
        if let Some(v) = value {
            *field = v;
        }
    };
    set(&mut p.mas, args.dose);
    set(&mut p.kvp, args.kvp);
    set(&mut p.blur_mm, args.blur);
    set(&mut p.noise, args.noise);
    set(&mut p.noise_corr_mm, args.noise_corr);
    set(&mut p.margin_mm, args.margin);
    set(&mut p.pixel_mm, args.pixel_mm);
    p.text &= !args.no_text;
    p.validate().context("invalid CDMAM settings")?;
    Ok(p)
}

/// Window from the 0.5 and 99.5 percentiles of a strided sample.
fn window(image: &Image) -> Window {
    let mut sample: Vec<f32> = image.data.iter().step_by(17).copied().collect();
    sample.sort_by(f32::total_cmp);
    let at = |q: f64| f64::from(sample.get(((sample.len().saturating_sub(1)) as f64 * q) as usize).copied().unwrap_or(0.0));
    Window::from_range(at(0.005), at(0.995).max(at(0.005) + 1.0))
}

pub fn run(args: &CdmamArgs) -> anyhow::Result<()> {
    if args.n == 0 || args.n > 100 {
        anyhow::bail!("--n must be 1 to 100, not {}", args.n);
    }
    let params = params(args)?;
    let layout = if args.random_layout { Layout::random(args.seed) } else { Layout::standard() };
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let series_uid = uid_from_seed(args.seed ^ 0xCD_3A, 2);
    let study_uid = uid_from_seed(args.seed ^ 0xCD_3A, 1);
    for index in 0..args.n {
        let exposure = simulate(&params, &layout, args.seed, index).context("simulating the CDMAM exposure")?;
        let mut object = MammogramObject::simulated(&exposure.image, args.seed ^ 0xCD_3A, index);
        object.intent = PresentationIntent::ForProcessing;
        object.study_uid.clone_from(&study_uid);
        object.series_uid.clone_from(&series_uid);
        "CDMAM^PHANTOM".clone_into(&mut object.patient_name);
        object.patient_id = format!("CDMAM-{}", args.seed);
        "CDMAM 3.4 phantom (simulated) - not patient data".clone_into(&mut object.study_description);
        object.series_description = format!("CDMAM 3.4 QA set, seed {}", args.seed);
        "mammoscope synth cdmam".clone_into(&mut object.model_name);
        // Shown as simulated (no mirroring by the hanging protocol): rows run towards the back, columns towards the left.
        object.patient_orientation = ("P".to_owned(), "L".to_owned());
        object.pixel_spacing_mm = params.pixel_mm;
        object.magnification = 1.0;
        object.kvp = params.kvp;
        object.exposure_mas = params.mas;
        object.body_part_thickness_mm = 45.0;
        object.compression_force_n = 0.0;
        object.windows = vec![NamedWindow { window: window(&exposure.image), explanation: "PHANTOM".to_owned() }];
        if args.uncompressed {
            object.transfer_syntax = TransferSyntax::ExplicitVrLittleEndian;
        }
        let stem = format!("cdmam_{index:02}");
        let dcm = args.out.join(format!("{stem}.dcm"));
        write_mammogram(&dcm, &object).with_context(|| format!("writing {}", dcm.display()))?;
        let sidecar = serde_json::json!({
            "note": "Simulated by mammoscope synth cdmam; not patient data.",
            "file": format!("{stem}.dcm"),
            "sop_instance_uid": object.sop_uid,
            "truth": truth(&params, &layout, &exposure, args.seed, index),
        });
        let json = args.out.join(format!("{stem}.json"));
        write_file_atomically(&json, serde_json::to_string_pretty(&sidecar)?.as_bytes())
            .with_context(|| format!("writing {}", json.display()))?;
        eprintln!(
            "{stem}: {}×{} px, {:.0} quanta/pixel behind the phantom, rotation {:.2}°",
            exposure.image.width,
            exposure.image.height,
            exposure.background_quanta,
            exposure.pose.angle_rad.to_degrees()
        );
    }
    let ideal: Vec<serde_json::Value> = tables::READOUT_ROWS
        .map(|row| {
            let d = tables::DIAMETERS_MM[row];
            serde_json::json!({ "diameter_mm": d, "ideal_observer_threshold_um": ideal_observer_threshold_um(&params, d) })
        })
        .collect();
    let set = serde_json::json!({
        "note": "Simulated by mammoscope synth cdmam; not patient data.",
        "images": args.n,
        "seed": args.seed,
        "layout": if args.random_layout { "random" } else { "standard" },
        "params": params,
        "ideal_observer": ideal,
    });
    let path = args.out.join("cdmam_set.json");
    write_file_atomically(&path, serde_json::to_string_pretty(&set)?.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {} CDMAM exposures to {}", args.n, args.out.display());
    Ok(())
}
