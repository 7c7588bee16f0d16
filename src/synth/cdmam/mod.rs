//! A physics simulator of CDMAM 3.4 exposures (For Processing): gold and aluminium attenuation, grid, blur, noise.
