//! Prometheus metrics: decisions by type and outcome, engine latency, errors by code, and the
//! state store's gauges, rendered in the OpenMetrics text format.

use std::fmt::Write;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use sheepdog_engine::Engine;
use sheepdog_model::{Decision, ErrorCode, EventType, Outcome};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    r#type: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    rule: String,
    mode: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    code: String,
}

pub struct Metrics {
    registry: Registry,
    /// Pre-created per (type, outcome): the hot path only increments an atomic.
    decisions: Vec<Vec<Counter>>,
    errors: Vec<(ErrorCode, Counter)>,
    latency: Histogram,
    /// Hits per rule id, live and shadow (ids come from the loaded policy: bounded).
    rules: Family<RuleLabels, Counter>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let decisions_family = Family::<DecisionLabels, Counter>::default();
        let errors_family = Family::<ErrorLabels, Counter>::default();
        let latency = Histogram::new(exponential_buckets(2e-6, 2.0, 16));
        let rules = Family::<RuleLabels, Counter>::default();
        registry.register(
            "sheepdog_rule_hits",
            "Rules that fired, by rule id and mode (live or shadow)",
            rules.clone(),
        );
        registry.register("sheepdog_decisions", "Decisions by event type and outcome", decisions_family.clone());
        registry.register("sheepdog_errors", "Rejected requests by error code", errors_family.clone());
        registry.register(
            "sheepdog_decision_latency_seconds",
            "Time spent inside the engine per decision",
            latency.clone(),
        );
        let decisions = EventType::ALL
            .iter()
            .map(|t| {
                Outcome::ALL
                    .iter()
                    .map(|o| {
                        decisions_family
                            .get_or_create(&DecisionLabels { r#type: t.as_str().into(), outcome: o.as_str().into() })
                            .clone()
                    })
                    .collect()
            })
            .collect();
        let errors = ErrorCode::ALL
            .iter()
            .map(|c| (*c, errors_family.get_or_create(&ErrorLabels { code: c.as_str().into() }).clone()))
            .collect();
        Metrics { registry, decisions, errors, latency, rules }
    }

    pub fn decision(&self, t: EventType, d: &Decision) {
        self.decisions[t.index()][d.decision.index()].inc();
        self.latency.observe(d.latency_us as f64 / 1e6);
        for (list, mode) in [(&d.rules, "live"), (&d.shadow_rules, "shadow")] {
            for r in list.iter() {
                self.rules.get_or_create(&RuleLabels { rule: r.to_string(), mode: mode.into() }).inc();
            }
        }
    }

    pub fn error(&self, code: ErrorCode) {
        if let Some((_, c)) = self.errors.iter().find(|(k, _)| *k == code) {
            c.inc();
        }
    }

    pub fn render(&self, engine: &Engine) -> String {
        let mut text = String::with_capacity(8192);
        let _ = encode(&mut text, &self.registry);
        // Store gauges are read at scrape time; they go before the closing `# EOF`.
        if text.ends_with("# EOF\n") {
            text.truncate(text.len() - "# EOF\n".len());
        }
        let s = engine.store().stats();
        let mut gauge = |name: &str, kind: &str, help: &str, value: u64| {
            let sample = if kind == "counter" { format!("{name}_total") } else { name.to_string() };
            let _ = write!(text, "# HELP {name} {help}\n# TYPE {name} {kind}\n{sample} {value}\n");
        };
        gauge("sheepdog_state_keys", "gauge", "Live window keys in the state store", s.keys);
        gauge("sheepdog_state_bytes", "gauge", "Estimated bytes of window state", s.bytes);
        gauge("sheepdog_state_evictions", "counter", "Window keys evicted to stay under the memory cap", s.evictions);
        gauge(
            "sheepdog_state_late_events",
            "counter",
            "Observations older than the grace period, not counted",
            s.late_dropped,
        );
        gauge("sheepdog_idempotency_keys", "gauge", "Event ids remembered for idempotency", s.idempotency_keys);
        gauge(
            "sheepdog_repeated_events",
            "counter",
            "Events answered from idempotency (repeated id)",
            engine.stats().repeats(),
        );
        text.push_str("# EOF\n");
        text
    }
}
