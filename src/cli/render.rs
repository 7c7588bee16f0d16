//! `mammoscope render FILE --out OUT.png [...]`: the viewer's display image as an 8-bit grey PNG.
//!
//! The pixels come from [`cpu_render::render_grey8`], the CPU reference of the shader. The PNG is written
//! atomically (a temporary file in the output folder, then a rename) and never over the input file.

use std::path::Path;

use anyhow::{Context as _, bail};
use image::{ExtendedColorType, ImageEncoder as _, codecs::png::PngEncoder};

use super::args::RenderArgs;
use crate::dicom::{self, LoadedImage, OpenOptions, atomic::same_file};
use crate::imaging::{
    Image, cpu_render,
    voi::{Display, Window},
};

pub fn run(args: &RenderArgs) -> anyhow::Result<()> {
    let out = &args.out;
    if same_file(&args.file, out) {
        bail!("refusing to overwrite the input file with the rendering ({})", out.display());
    }
    let loaded = dicom::open(&args.file, &OpenOptions::default())?;
    let image = super::frame(&loaded, args.frame)?;
    let display = display_for(args, &loaded, image)?;
    let lut = if display.use_lut { loaded.meta.voi.luts.first() } else { None };
    let out_width = args.width.map(|w| w as usize);
    let (width, height, grey) = cpu_render::render_grey8(image, &display, lut, out_width);
    write_png_atomically(out, width, height, &grey)?;
    tracing::info!("wrote {width}×{height} to {out:?}");
    Ok(())
}

/// The display settings `args` ask for, defaulting to what the viewer shows first.
pub fn display_for(args: &RenderArgs, loaded: &LoadedImage, image: &Image) -> anyhow::Result<Display> {
    let voi = &loaded.meta.voi;
    if args.lut && voi.luts.is_empty() {
        bail!("--lut: the file has no VOI LUT ({})", loaded.path.display());
    }
    let window = match (&args.window, &args.preset) {
        (Some(w), _) => *w,
        (None, Some(p)) => preset_window(loaded, p)?,
        (None, None) => super::default_window(loaded, image),
    };
    // Without --window or --preset, start where the viewer starts (a VOI LUT when the file has LUTs but no window).
    let explicit_window = args.window.is_some() || args.preset.is_some();
    Ok(Display {
        window,
        function: args.function.map_or(voi.function, Into::into),
        inverted: loaded.meta.is_monochrome1() ^ args.invert,
        gamma: 1.0,
        use_lut: args.lut || (!explicit_window && voi.initial_lut().is_some()),
    })
}

/// A preset by 0-based index or by name (case-insensitive).
fn preset_window(loaded: &LoadedImage, wanted: &str) -> anyhow::Result<Window> {
    let presets = &loaded.meta.voi.presets;
    let by_index = wanted.trim().parse::<usize>().ok().and_then(|i| presets.get(i));
    let by_name = || presets.iter().find(|p| p.name.eq_ignore_ascii_case(wanted.trim()));
    if let Some(p) = by_index.or_else(by_name) {
        return Ok(p.window);
    }
    let names: Vec<String> = presets.iter().enumerate().map(|(i, p)| format!("[{i}] {}", p.name)).collect();
    bail!("no window preset {wanted:?}; the file has: {} ({})", names.join(", "), loaded.path.display())
}

/// Encode an 8-bit grey PNG into a temporary file beside `out`, then rename it over `out`.
pub fn write_png_atomically(out: &Path, width: usize, height: usize, grey: &[u8]) -> anyhow::Result<()> {
    let (Ok(w), Ok(h)) = (u32::try_from(width), u32::try_from(height)) else {
        bail!("image too large for PNG: {width}×{height}");
    };
    if out.is_dir() {
        bail!("--out is a directory ({})", out.display());
    }
    super::write_atomically(out, |writer| {
        PngEncoder::new(writer)
            .write_image(grey, w, h, ExtendedColorType::L8)
            .with_context(|| format!("cannot encode PNG ({})", out.display()))
    })
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::PathBuf;

    use super::*;
    use crate::dicom::{ImageMeta, WindowPreset};
    use crate::imaging::voi::VoiFunction;

    fn args(invert: bool, preset: Option<&str>) -> RenderArgs {
        RenderArgs {
            file: PathBuf::from("in.dcm"),
            out: PathBuf::from("out.png"),
            window: None,
            preset: preset.map(str::to_owned),
            function: None,
            invert,
            width: None,
            frame: 0,
            lut: false,
        }
    }

    #[test]
    fn monochrome1_xor_invert_and_presets() {
        let window = Window { center: 100.0, width: 50.0 };
        let preset = WindowPreset { name: "Soft".into(), explanation: String::new(), window, from_file: true };
        let mut meta = ImageMeta { photometric: "MONOCHROME1".into(), ..ImageMeta::default() };
        meta.voi.presets.push(preset);
        meta.voi.function = VoiFunction::Sigmoid;
        let image = Image::filled(2, 2, 7.0);
        let loaded = LoadedImage { path: PathBuf::from("in.dcm"), frames: vec![image.clone()], meta };
        let d = display_for(&args(false, None), &loaded, &image).unwrap();
        assert!(d.inverted);
        assert_eq!((d.window, d.function), (window, VoiFunction::Sigmoid));
        assert!(!display_for(&args(true, None), &loaded, &image).unwrap().inverted);
        assert_eq!(display_for(&args(false, Some("soft")), &loaded, &image).unwrap().window, window);
        assert_eq!(display_for(&args(false, Some("0")), &loaded, &image).unwrap().window, window);
        assert!(display_for(&args(false, Some("1")), &loaded, &image).is_err());
        let lut = RenderArgs { lut: true, ..args(false, None) };
        assert!(display_for(&lut, &loaded, &image).is_err(), "no VOI LUT in the file");
    }

    #[test]
    fn png_written_atomically_and_readable() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("o.png");
        write_png_atomically(&out, 3, 2, &[0, 10, 20, 30, 40, 255]).unwrap();
        let img = image::open(&out).unwrap().into_luma8();
        assert_eq!(img.dimensions(), (3, 2));
        assert_eq!(img.into_raw(), vec![0, 10, 20, 30, 40, 255]);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "temporary file left behind");
        assert!(write_png_atomically(dir.path(), 1, 1, &[0]).is_err());
        assert!(same_file(&out, &dir.path().join(".").join("o.png")));
    }
}
