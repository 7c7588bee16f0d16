//! The automated readout statistics: detection matrices → psychometric fits → thresholds → curve, verdicts.
