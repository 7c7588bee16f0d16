//! Finding the CDMAM in an image from the image alone, and scoring each cell's corners with a matched filter.
