//! Traffic generators for sheepdog. `load` writes synthetic, unlabelled contract events fast, for
//! benchmarks and load tests; `simulate` runs a scenario of the black market against an honest
//! population with its traps, and returns labelled events (ground truth per event).

mod campaigns;
pub mod data;
pub mod load;
pub mod out;
mod population;
pub mod scenario;
mod world;

pub use out::{Out, Truth};
pub use scenario::{Scenario, ScenarioError, ADAPTIVE_SCENARIO, CAMPAIGNS, DEFAULT_SCENARIO, POPULATIONS};

/// Generates a scenario's events for a seed: ordered by time, ids assigned in that order.
pub fn simulate(scenario: &Scenario, seed: u64) -> Out {
    let end = scenario.start_ms + i64::from(scenario.days) * world::DAY;
    let mut out = Out::new(seed, scenario.start_ms, end);
    population::generate(scenario, seed, &mut out);
    campaigns::generate(scenario, seed, &mut out);
    out.finish();
    out
}
