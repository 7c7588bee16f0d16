//! The single-image CDC predictor: a deep ensemble (the OMIG paper, appendix C). Being written.
