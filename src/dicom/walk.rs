//! A bounds check of every element length in a DICOM byte stream, run before dicom-object parses it.
//!
//! dicom-parser reserves each element's declared length before reading it, so one lying length in a 1 kB file
//! would make it allocate (and zero) up to 4 GiB. This walker reads only element headers and refuses any length
//! that runs past the end of the file, or sequences nested absurdly deep (the parser recurses on them). It knows
//! explicit and implicit VR, both byte orders, sequences and items of defined and undefined length, undefined-length
//! UN (whose content is implicit VR little endian) and encapsulated pixel data fragments.

use dicom_core::{
    VR,
    dictionary::{DataDictionary, VirtualVr},
};
use dicom_dictionary_std::StandardDataDictionary;

/// Deepest nesting of undefined-length sequences and items accepted.
const MAX_DEPTH: usize = 32;
const UNDEFINED: u32 = u32::MAX;
const PIXEL_DATA: (u16, u16) = (0x7FE0, 0x0010);

/// How the data set is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Encoding {
    pub explicit_vr: bool,
    pub big_endian: bool,
}

/// Why the walk stopped early.
#[derive(Debug)]
pub(crate) enum WalkError {
    /// A declared length runs past the end of the file.
    Truncated(String),
    /// The structure makes no sense (unknown VR, nesting too deep).
    Invalid(String),
    /// The buffer is a prefix of the file and ended before the walk could finish.
    NeedMore,
}

/// What the walk found at the top level.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct WalkReport {
    /// Offset just past the last element walked (the Pixel Data header when `stop_at_pixel_data`).
    pub end: usize,
    /// Declared length of the top-level Pixel Data, `None` when encapsulated or absent.
    #[cfg_attr(not(test), allow(dead_code))]
    pub pixel_data_len: Option<u32>,
    pub has_pixel_data: bool,
}

struct Frame {
    /// Content of an undefined-length UN: implicit VR little endian until this frame closes.
    implicit: bool,
    /// Encapsulated pixel data: items are fragments, skipped whole.
    fragments: bool,
}

/// Walk `buf[start..]` (a prefix of a file of `file_len` bytes) as a data set in `encoding`.
/// With `stop_at_pixel_data`, stop at the top-level Pixel Data header (the study-list header read).
pub(crate) fn walk(buf: &[u8], start: usize, file_len: u64, encoding: Encoding, stop_at_pixel_data: bool) -> Result<WalkReport, WalkError> {
    let mut pos = start;
    let mut stack: Vec<Frame> = Vec::new();
    let mut report = WalkReport::default();
    let is_prefix = (buf.len() as u64) < file_len;
    let ended = |what: &str| {
        if is_prefix { WalkError::NeedMore } else { WalkError::Truncated(format!("the file ends inside {what}")) }
    };
    while pos < buf.len() {
        let implicit = !encoding.explicit_vr || stack.iter().any(|f| f.implicit);
        // Items and delimiters are always little endian in implicit content; the base byte order elsewhere.
        let big = encoding.big_endian && !implicit;
        let Some(tag_bytes) = buf.get(pos..pos + 8) else {
            return Err(ended("a data element header"));
        };
        let group = read_u16(&tag_bytes[0..2], big);
        let element = read_u16(&tag_bytes[2..4], big);
        let remaining = file_len.saturating_sub(pos as u64);
        if group == 0xFFFE {
            let len = read_u32(&tag_bytes[4..8], big);
            pos += 8;
            match element {
                0xE000 if stack.last().is_some_and(|f| f.fragments) => {
                    pos = skip(pos, len, remaining.saturating_sub(8), "a pixel data fragment")?;
                }
                0xE000 if len == UNDEFINED => push(&mut stack, Frame { implicit: false, fragments: false })?,
                0xE000 => check_len(len, remaining.saturating_sub(8), "a sequence item")?,
                0xE00D | 0xE0DD => {
                    stack.pop();
                }
                _ => {
                    return Err(WalkError::Invalid(format!("unknown item tag (FFFE,{element:04X})")));
                }
            }
            continue;
        }
        let (vr, len, header_len) = if implicit {
            (None, read_u32(&tag_bytes[4..8], false), 8)
        } else {
            let vr = VR::from_binary([tag_bytes[4], tag_bytes[5]])
                .ok_or_else(|| WalkError::Invalid(format!("element ({group:04X},{element:04X}) has an unknown value representation")))?;
            if long_length(vr) {
                let Some(len_bytes) = buf.get(pos + 8..pos + 12) else {
                    return Err(ended("a data element header"));
                };
                (Some(vr), read_u32(len_bytes, big), 12)
            } else {
                (Some(vr), u32::from(read_u16(&tag_bytes[6..8], big)), 8)
            }
        };
        let top_level_pixels = stack.is_empty() && (group, element) == PIXEL_DATA;
        if top_level_pixels {
            report.has_pixel_data = true;
            report.pixel_data_len = (len != UNDEFINED).then_some(len);
            if stop_at_pixel_data {
                report.end = pos;
                return Ok(report);
            }
        }
        pos += header_len;
        let remaining = remaining.saturating_sub(header_len as u64);
        if len == UNDEFINED {
            let un_content = vr == Some(VR::UN);
            push(&mut stack, Frame { implicit: un_content, fragments: top_level_pixels || vr == Some(VR::OB) || vr == Some(VR::OW) })?;
            continue;
        }
        let is_sequence = match vr {
            Some(vr) => vr == VR::SQ,
            None => matches!(StandardDataDictionary.by_tag((group, element).into()).map(|e| e.vr), Some(VirtualVr::Exact(VR::SQ))),
        };
        if is_sequence {
            check_len(len, remaining, &format!("sequence ({group:04X},{element:04X})"))?;
        } else {
            let what = if top_level_pixels { "Pixel Data (7FE0,0010)".to_owned() } else { format!("element ({group:04X},{element:04X})") };
            pos = skip(pos, len, remaining, &what)?;
        }
    }
    if pos > buf.len() && is_prefix {
        return Err(WalkError::NeedMore);
    }
    report.end = pos.min(buf.len());
    Ok(report)
}

fn push(stack: &mut Vec<Frame>, frame: Frame) -> Result<(), WalkError> {
    if stack.len() >= MAX_DEPTH {
        return Err(WalkError::Invalid(format!("sequences nested deeper than {MAX_DEPTH} levels")));
    }
    stack.push(frame);
    Ok(())
}

fn check_len(len: u32, remaining: u64, what: &str) -> Result<(), WalkError> {
    if u64::from(len) > remaining {
        return Err(WalkError::Truncated(format!("{what} declares {len} bytes but only {remaining} remain")));
    }
    Ok(())
}

fn skip(pos: usize, len: u32, remaining: u64, what: &str) -> Result<usize, WalkError> {
    check_len(len, remaining, what)?;
    Ok(pos + len as usize)
}

/// VRs whose explicit-VR header has 2 reserved bytes and a 4-byte length.
fn long_length(vr: VR) -> bool {
    matches!(vr, VR::OB | VR::OD | VR::OF | VR::OL | VR::OV | VR::OW | VR::SQ | VR::SV | VR::UC | VR::UN | VR::UR | VR::UT | VR::UV)
}

fn read_u16(b: &[u8], big: bool) -> u16 {
    let pair = [b[0], b[1]];
    if big { u16::from_be_bytes(pair) } else { u16::from_le_bytes(pair) }
}

fn read_u32(b: &[u8], big: bool) -> u32 {
    let quad = [b[0], b[1], b[2], b[3]];
    if big { u32::from_be_bytes(quad) } else { u32::from_le_bytes(quad) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LE_EXPLICIT: Encoding = Encoding { explicit_vr: true, big_endian: false };

    #[test]
    fn lying_length_is_refused() {
        // (0010,0010) PN, length 10 but 4 bytes follow.
        let buf = [0x10, 0x00, 0x10, 0x00, b'P', b'N', 10, 0, b'A', b'B', b'C', b'D'];
        let err = walk(&buf, 0, buf.len() as u64, LE_EXPLICIT, false).unwrap_err();
        assert!(matches!(err, WalkError::Truncated(m) if m.contains("(0010,0010)")));
    }

    #[test]
    fn pixel_data_length_is_reported() {
        let mut buf = vec![0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0, 4, 0, 0, 0];
        buf.extend([1, 2, 3, 4]);
        let report = walk(&buf, 0, buf.len() as u64, LE_EXPLICIT, false).unwrap();
        assert_eq!((report.has_pixel_data, report.pixel_data_len, report.end), (true, Some(4), 16));
        let short = walk(&buf[..14], 0, 14, LE_EXPLICIT, false).unwrap_err();
        assert!(matches!(short, WalkError::Truncated(m) if m.contains("Pixel Data")));
    }
}
