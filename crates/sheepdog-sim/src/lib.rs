//! Traffic generators for sheepdog. `load` writes synthetic, unlabelled contract events fast,
//! for benchmarks and load tests; the labelled black-market simulator grows beside it.

pub mod load;
