//! ROC analysis of a binary classifier: the curve, its area, and the accuracy-maximising operating point.
//!
//! The operating point follows the patch-learning paper: on a balanced test set the point that maximises accuracy is
//! where a line of slope 1 touches the ROC curve with the largest intercept, i.e. the threshold maximising
//! `TPR − FPR`. With unequal classes the accuracy-maximising threshold is searched directly.

/// One point of the ROC curve: predictions `≥ threshold` are called positive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RocPoint {
    pub threshold: f32,
    pub fpr: f64,
    pub tpr: f64,
}

/// Sensitivity, specificity and accuracy at one threshold.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Confusion {
    pub threshold: f32,
    pub sensitivity: f64,
    pub specificity: f64,
    pub accuracy: f64,
    pub positives: usize,
    pub negatives: usize,
}

/// The ROC curve from (score, label) pairs, from (0, 0) to (1, 1), one point per distinct score.
/// Empty when either class is missing.
pub fn roc_curve(scores: &[f32], labels: &[bool]) -> Vec<RocPoint> {
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 || scores.len() != labels.len() {
        return Vec::new();
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut points = vec![RocPoint { threshold: f32::INFINITY, fpr: 0.0, tpr: 0.0 }];
    let (mut tp, mut fp) = (0usize, 0usize);
    for (k, &i) in order.iter().enumerate() {
        if labels[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_tie = order.get(k + 1).is_none_or(|&j| scores[j].total_cmp(&scores[i]).is_ne());
        if last_of_tie {
            points.push(RocPoint { threshold: scores[i], fpr: fp as f64 / negatives as f64, tpr: tp as f64 / positives as f64 });
        }
    }
    points
}

/// Area under the ROC curve (trapezoids; ties count one half, as the Mann–Whitney statistic). NaN when a class is missing.
pub fn auc(scores: &[f32], labels: &[bool]) -> f64 {
    let curve = roc_curve(scores, labels);
    if curve.is_empty() {
        return f64::NAN;
    }
    curve.windows(2).map(|w| (w[1].fpr - w[0].fpr) * 0.5 * (w[1].tpr + w[0].tpr)).sum()
}

/// Counts at `threshold` (positive when `score ≥ threshold`).
pub fn confusion(scores: &[f32], labels: &[bool], threshold: f32) -> Confusion {
    let (mut tp, mut tn, mut p, mut n) = (0usize, 0usize, 0usize, 0usize);
    for (&s, &l) in scores.iter().zip(labels) {
        if l {
            p += 1;
            tp += usize::from(s >= threshold);
        } else {
            n += 1;
            tn += usize::from(s < threshold);
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { f64::NAN } else { a as f64 / b as f64 };
    Confusion {
        threshold,
        sensitivity: ratio(tp, p),
        specificity: ratio(tn, n),
        accuracy: ratio(tp + tn, p + n),
        positives: p,
        negatives: n,
    }
}

/// The threshold maximising accuracy (the paper's operating point); on a tie the one with the larger `TPR − FPR`.
/// `None` when a class is missing.
pub fn accuracy_operating_point(scores: &[f32], labels: &[bool]) -> Option<Confusion> {
    let curve = roc_curve(scores, labels);
    let p = labels.iter().filter(|&&l| l).count() as f64;
    let n = labels.len() as f64 - p;
    let best = curve.iter().skip(1).max_by(|a, b| {
        let acc = |q: &RocPoint| (q.tpr * p + (1.0 - q.fpr) * n, q.tpr - q.fpr);
        let (aa, ab) = (acc(a), acc(b));
        aa.0.total_cmp(&ab.0).then(aa.1.total_cmp(&ab.1))
    })?;
    Some(confusion(scores, labels, best.threshold))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_inverted_and_random() {
        let labels = [false, false, true, true];
        assert!((auc(&[0.1, 0.2, 0.8, 0.9], &labels) - 1.0).abs() < 1e-12);
        assert!(auc(&[0.9, 0.8, 0.2, 0.1], &labels).abs() < 1e-12);
        assert!((auc(&[0.5; 4], &labels) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn auc_equals_mann_whitney() {
        let scores: [f32; 9] = [0.1, 0.4, 0.35, 0.8, 0.7, 0.2, 0.4, 0.9, 0.05];
        let labels = [false, false, true, true, false, true, true, true, false];
        let mut wins = 0.0;
        let (mut np, mut nn) = (0.0, 0.0);
        for (i, &li) in labels.iter().enumerate() {
            if !li {
                continue;
            }
            np += 1.0;
            for (j, &lj) in labels.iter().enumerate() {
                if lj {
                    continue;
                }
                wins += if scores[i] > scores[j] {
                    1.0
                } else if scores[i].total_cmp(&scores[j]).is_eq() {
                    0.5
                } else {
                    0.0
                };
            }
        }
        nn += labels.iter().filter(|&&l| !l).count() as f64;
        assert!((auc(&scores, &labels) - wins / (np * nn)).abs() < 1e-12);
    }

    #[test]
    fn operating_point_maximises_accuracy() {
        let scores = [0.1, 0.3, 0.45, 0.5, 0.6, 0.7, 0.2, 0.9];
        let labels = [false, false, false, true, true, true, true, true];
        let op = accuracy_operating_point(&scores, &labels).unwrap();
        assert!((op.threshold - 0.5).abs() < 1e-6);
        assert!((op.accuracy - 7.0 / 8.0).abs() < 1e-12);
        assert!((op.specificity - 1.0).abs() < 1e-12);
        assert!(accuracy_operating_point(&scores, &[true; 8]).is_none());
    }
}
