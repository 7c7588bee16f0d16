//! The shipped models and where they are found: `MAMMOSCOPE_MODELS`, the source tree's `assets/models`, or the
//! installed copy (`../share/mammoscope/models` beside the executable, `/usr/share/mammoscope/models`).

use std::path::{Path, PathBuf};

use crate::dicom::source::ImageSource;

/// A shipped calcification model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShippedModel {
    /// Stable identifier (CLI `--model`, UI selector).
    pub id: &'static str,
    /// Weights file name in the models folder.
    pub file: &'static str,
    /// What it is, for the UI.
    pub label: &'static str,
}

/// The shipped calcification models; the first is the default.
pub const CALC_MODELS: [ShippedModel; 4] = [
    // The robust model is the default: its clean test AUC (0.9836) is within 0.01 of the plain one's (0.9879), the
    // issue's rule for making it the default (see assets/models/CALC_MODEL_CARD.md).
    ShippedModel {
        id: "compact-robust",
        file: "calc-compact-robust.safetensors",
        label: "Compact, robust (neighbor loss + embedded autoencoder)",
    },
    ShippedModel { id: "compact", file: "calc-compact.safetensors", label: "Compact, plain cross-entropy" },
    // For digitised film: trained with screen dust, lint fibres and scanner lines painted in, they make 0–8 marks per
    // CBIS-DDSM film where the two above make 7–31; on simulated digital mammograms they find fewer clusters. The
    // plain one is the one `analyze calc` recommends for film (model card).
    ShippedModel {
        id: "compact-film-robust",
        file: "calc-compact-film-robust.safetensors",
        label: "Compact, robust, for digitised film (trained with dust, lint and scanner lines)",
    },
    ShippedModel {
        id: "compact-film",
        file: "calc-compact-film.safetensors",
        label: "Compact, plain, for digitised film (trained with dust, lint and scanner lines)",
    },
];

/// The default calcification model.
pub fn default_calc_model() -> ShippedModel {
    CALC_MODELS[0]
}

/// The catalogue index of the model for digitised film (trained with film artefacts; model card).
pub const FILM_CALC_MODEL: usize = 3;

/// Which calcification model to run: chosen per image from its source, or one for all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CalcModelChoice {
    /// Digitised film gets [`FILM_CALC_MODEL`], every other image the default model.
    #[default]
    Auto,
    /// This catalogue index for every image.
    Fixed(usize),
}

impl CalcModelChoice {
    /// The catalogue index of the model for an image from `source`.
    pub fn resolve(self, source: ImageSource) -> usize {
        match self {
            Self::Fixed(i) => i,
            Self::Auto if source == ImageSource::DigitisedFilm => FILM_CALC_MODEL,
            Self::Auto => 0,
        }
    }
}

/// The folder holding the shipped weights, if any candidate exists.
pub fn models_dir() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("MAMMOSCOPE_MODELS") {
        candidates.push(PathBuf::from(dir));
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models"));
    if let Some(prefix) = std::env::current_exe().ok().and_then(|exe| exe.parent().and_then(Path::parent).map(Path::to_path_buf)) {
        candidates.push(prefix.join("share/mammoscope/models"));
    }
    candidates.push(PathBuf::from("/usr/share/mammoscope/models"));
    candidates.into_iter().find(|dir| {
        dir.join(CALC_MODELS[0].file).is_file() || dir.join(CALC_MODELS[1].file).is_file() || dir.join(CDC_ENSEMBLE_DIR).is_dir()
    })
}

/// The folder (inside the models folder) of the shipped CDC deep ensemble (compact preset).
pub const CDC_ENSEMBLE_DIR: &str = "cdc-compact";

/// The shipped CDC ensemble's folder, if installed.
pub fn cdc_ensemble_path() -> Option<PathBuf> {
    models_dir().map(|d| d.join(CDC_ENSEMBLE_DIR)).filter(|p| p.is_dir())
}

/// The weights file of `model`, if installed.
pub fn calc_model_path(model: ShippedModel) -> Option<PathBuf> {
    models_dir().map(|d| d.join(model.file)).filter(|p| p.is_file())
}

/// The shipped denoiser weights of a preset (`denoise-<preset>.safetensors`), if installed.
pub fn denoise_model_path(preset: crate::models::denoise::DenoisePreset) -> Option<PathBuf> {
    models_dir().map(|d| d.join(format!("denoise-{}.safetensors", preset.name()))).filter(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_picks_the_film_model_for_film_only() {
        assert_eq!(CALC_MODELS[FILM_CALC_MODEL].id, "compact-film");
        let auto = CalcModelChoice::default();
        assert_eq!(auto.resolve(ImageSource::DigitisedFilm), FILM_CALC_MODEL);
        assert_eq!(auto.resolve(ImageSource::Digital), 0);
        assert_eq!(auto.resolve(ImageSource::Unknown), 0);
        assert_eq!(CalcModelChoice::Fixed(1).resolve(ImageSource::DigitisedFilm), 1);
    }
}
