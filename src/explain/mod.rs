//! Explainability maps for the CDC ensemble (OMIG, sensitivity, occlusion) and their upsampling (Algorithm 2). Being written.
