//! The EUREF verdicts: predicted human thresholds against the European Guidelines' acceptable and achievable limits.
//!
//! A limit is assessed at its diameter when that diameter is one of the automated readout's rows (1.00, 0.50, 0.25
//! and 0.10 mm); 2.00 mm lies outside the automated range and is reported as not assessed. A threshold known only
//! as a bound still decides what it can: at most the achievable limit is achievable, at most the acceptable limit
//! is (at least) acceptable, above the acceptable limit fails; anything else is not assessed.
//!
//! The overall verdict is the worst of the assessed limits in the readout range; if any of those could not be
//! assessed it is "not assessed" (a pass needs every limit), unless another one already fails.

use crate::phantom::cdmam::tables::{EurefLimit, READOUT_ROWS, row_of_diameter};

/// The outcome at one limit, or overall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictLevel {
    Achievable,
    Acceptable,
    Fail,
    NotAssessed,
}

/// What is known of the predicted human threshold at a limit's diameter, µm.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HumanThreshold {
    /// From the fitted curve (or the row's own fit when there is no curve).
    Value(f64),
    /// The row's discs were all seen: the threshold is at most this.
    AtMost(f64),
    /// The row's discs stayed at chance: the threshold is at least this.
    AtLeast(f64),
    Unknown,
}

/// The verdict at one EUREF limit.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Verdict {
    pub diameter_mm: f64,
    pub acceptable_um: f64,
    pub achievable_um: f64,
    /// Whether the diameter is one of the automated readout's rows.
    pub in_readout_range: bool,
    pub human: HumanThreshold,
    pub level: VerdictLevel,
}

/// Whether `limit`'s diameter is assessed by the automated readout.
pub fn in_readout_range(limit: &EurefLimit) -> bool {
    row_of_diameter(limit.diameter_mm).is_some_and(|row| READOUT_ROWS.contains(&row))
}

/// The verdict at `limit` given what is known of the human threshold there.
pub fn verdict(limit: &EurefLimit, human: HumanThreshold) -> Verdict {
    let in_range = in_readout_range(limit);
    let (achievable, acceptable) = (limit.achievable_um, limit.acceptable_um);
    let level = match human {
        _ if !in_range => VerdictLevel::NotAssessed,
        HumanThreshold::Value(h) | HumanThreshold::AtMost(h) if h <= achievable => VerdictLevel::Achievable,
        HumanThreshold::Value(h) | HumanThreshold::AtMost(h) if h <= acceptable => VerdictLevel::Acceptable,
        HumanThreshold::Value(_) => VerdictLevel::Fail,
        HumanThreshold::AtLeast(h) if h > acceptable => VerdictLevel::Fail,
        HumanThreshold::AtMost(_) | HumanThreshold::AtLeast(_) | HumanThreshold::Unknown => VerdictLevel::NotAssessed,
    };
    let human = if in_range { human } else { HumanThreshold::Unknown };
    Verdict {
        diameter_mm: limit.diameter_mm,
        acceptable_um: acceptable,
        achievable_um: achievable,
        in_readout_range: in_range,
        human,
        level,
    }
}

/// The overall verdict over the limits in the readout range (rule in the module docs).
pub fn overall(verdicts: &[Verdict]) -> VerdictLevel {
    let levels: Vec<VerdictLevel> = verdicts.iter().filter(|v| v.in_readout_range).map(|v| v.level).collect();
    if levels.is_empty() {
        VerdictLevel::NotAssessed
    } else if levels.contains(&VerdictLevel::Fail) {
        VerdictLevel::Fail
    } else if levels.contains(&VerdictLevel::NotAssessed) {
        VerdictLevel::NotAssessed
    } else if levels.contains(&VerdictLevel::Acceptable) {
        VerdictLevel::Acceptable
    } else {
        VerdictLevel::Achievable
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phantom::cdmam::tables::EUREF_LIMITS;

    fn at(limit: &EurefLimit, diameter_mm: f64) -> bool {
        (limit.diameter_mm - diameter_mm).abs() < 1e-9
    }

    fn levels(human: impl Fn(&EurefLimit) -> HumanThreshold) -> (Vec<VerdictLevel>, VerdictLevel) {
        let v: Vec<Verdict> = EUREF_LIMITS.iter().map(|l| verdict(l, human(l))).collect();
        (v.iter().map(|v| v.level).collect(), overall(&v))
    }

    #[test]
    fn hand_set_thresholds_give_the_expected_verdicts() {
        use VerdictLevel::{Acceptable, Achievable, Fail, NotAssessed};
        // Exactly on the achievable limit everywhere: achievable (≤), 2.00 mm not assessed.
        let (l, o) = levels(|l| HumanThreshold::Value(l.achievable_um));
        assert_eq!((l, o), (vec![NotAssessed, Achievable, Achievable, Achievable, Achievable], Achievable));
        // Between the limits at 0.25 mm: acceptable overall.
        let (l, o) =
            levels(|l| HumanThreshold::Value(if at(l, 0.25) { 0.5 * (l.achievable_um + l.acceptable_um) } else { l.achievable_um }));
        assert_eq!((l[3], o), (Acceptable, Acceptable));
        // Just above acceptable at 0.10 mm: fail, whatever else.
        let (l, o) = levels(|l| HumanThreshold::Value(if at(l, 0.1) { l.acceptable_um * 1.01 } else { l.achievable_um }));
        assert_eq!((l[4], o), (Fail, Fail));
        // The 2.00 mm limit never counts, even when its value would fail.
        let (l, o) = levels(|l| HumanThreshold::Value(if at(l, 2.0) { 10.0 } else { l.achievable_um }));
        assert_eq!((l[0], o), (NotAssessed, Achievable));
    }

    #[test]
    fn bounds_decide_what_they_can() {
        use VerdictLevel::{Acceptable, Achievable, Fail, NotAssessed};
        let limit = EUREF_LIMITS[1]; // 1.00 mm: acceptable 0.091, achievable 0.056
        assert_eq!(verdict(&limit, HumanThreshold::AtMost(0.05)).level, Achievable);
        assert_eq!(verdict(&limit, HumanThreshold::AtMost(0.08)).level, Acceptable);
        assert_eq!(verdict(&limit, HumanThreshold::AtMost(0.2)).level, NotAssessed);
        assert_eq!(verdict(&limit, HumanThreshold::AtLeast(0.1)).level, Fail);
        assert_eq!(verdict(&limit, HumanThreshold::AtLeast(0.06)).level, NotAssessed);
        assert_eq!(verdict(&limit, HumanThreshold::Unknown).level, NotAssessed);
        // One unknown limit in range keeps the overall verdict from passing; a fail still fails.
        let (_, o) = levels(|l| if at(l, 0.5) { HumanThreshold::Unknown } else { HumanThreshold::Value(l.achievable_um) });
        assert_eq!(o, NotAssessed);
        let (_, o) = levels(|l| if at(l, 0.5) { HumanThreshold::Unknown } else { HumanThreshold::Value(1.0) });
        assert_eq!(o, Fail);
        assert_eq!(serde_json::to_value(HumanThreshold::AtMost(0.1)).unwrap()["at_most"], 0.1);
        assert_eq!(serde_json::to_value(NotAssessed).unwrap(), "not_assessed");
    }
}
