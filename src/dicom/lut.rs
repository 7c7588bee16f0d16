//! LUT Descriptor + LUT Data items (PS3.3 C.11.1 Modality LUT, C.11.2 VOI LUT) shared by the modality and VOI code.
//!
//! LUT Descriptor (0028,3002) holds: the number of entries (0 means 65536), the first stored value mapped (US, or
//! SS when Pixel Representation is signed) and the number of bits per entry. LUT Data (0028,3006) is US or OW; an
//! 8-bit LUT may be packed two entries per 16-bit word (low byte first).

use dicom_dictionary_std::tags;

use super::attrs::{Dataset, string, words};

/// A decoded LUT.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Lut {
    pub first_mapped: i32,
    pub bits: u32,
    pub data: Vec<u16>,
    pub explanation: Option<String>,
}

impl Lut {
    /// Parse one item of a Modality or VOI LUT Sequence; `None` when the descriptor or data are unusable.
    pub fn from_item(item: &Dataset, signed: bool) -> Option<Self> {
        let descriptor = words(item, tags::LUT_DESCRIPTOR);
        let [entries, first, bits] = descriptor[..] else {
            return None;
        };
        let entries = if entries == 0 { 65536 } else { usize::from(entries) };
        let first_mapped = if signed { i32::from(first as i16) } else { i32::from(first) };
        let raw = words(item, tags::LUT_DATA);
        if raw.is_empty() {
            return None;
        }
        let packed = bits <= 8 && raw.len() * 2 == entries + entries % 2 && raw.len() < entries;
        let mut data: Vec<u16> = if packed {
            raw.iter().flat_map(|w| [w & 0xFF, w >> 8]).take(entries).collect()
        } else {
            raw.into_iter().take(entries).collect()
        };
        let bits = if (1..=16).contains(&bits) {
            u32::from(bits)
        } else {
            // Some writers put 0 or garbage here: size the range from the data.
            let max = data.iter().copied().max().unwrap_or(0);
            (u16::BITS - max.leading_zeros()).max(1)
        };
        if bits < 16 {
            let mask = (1u16 << bits) - 1;
            for v in &mut data {
                *v &= mask;
            }
        }
        Some(Self { first_mapped, bits, data, explanation: string(item, tags::LUT_EXPLANATION) })
    }

    /// The entry for a stored value: inputs below the first mapped value take the first entry, above the last the
    /// last (PS3.3 C.11.1.1).
    pub fn apply(&self, value: f32) -> f32 {
        let last = self.data.len().saturating_sub(1) as f32;
        let idx = (value - self.first_mapped as f32).floor().clamp(0.0, last) as usize;
        self.data.get(idx).map_or(0.0, |&v| f32::from(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicom_core::{DataElement, PrimitiveValue, VR, smallvec::smallvec};

    fn item(descriptor: [u16; 3], data: Vec<u16>) -> Dataset {
        Dataset::from_element_iter([
            DataElement::new(tags::LUT_DESCRIPTOR, VR::US, PrimitiveValue::U16(smallvec![descriptor[0], descriptor[1], descriptor[2]])),
            DataElement::new(tags::LUT_DATA, VR::OW, PrimitiveValue::U16(data.into())),
        ])
    }

    #[test]
    fn signed_first_value_and_clamping() {
        // 3 entries starting at -2 (0xFFFE as SS), 12 bits.
        let lut = Lut::from_item(&item([3, 0xFFFE, 12], vec![10, 20, 4095]), true).unwrap();
        assert_eq!(lut.first_mapped, -2);
        assert_eq!([lut.apply(-5.0), lut.apply(-1.0), lut.apply(9.0)].map(|v| v as u16), [10, 20, 4095]);
    }

    #[test]
    fn packed_8bit_and_zero_means_65536() {
        let lut = Lut::from_item(&item([4, 0, 8], vec![0x0201, 0x0403]), false).unwrap();
        assert_eq!(lut.data, vec![1, 2, 3, 4]);
        let big = Lut::from_item(&item([0, 0, 16], vec![7; 65536]), false).unwrap();
        assert_eq!(big.data.len(), 65536);
    }
}
