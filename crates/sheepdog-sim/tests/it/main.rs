//! Tests of the black-market simulator.
