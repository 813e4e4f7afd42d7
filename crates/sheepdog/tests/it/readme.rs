//! The README's curl example, sent to a real `sheepdog serve`, returns the decision the README
//! shows (everything but `latency_us`).

use serde_json::Value;

use crate::{post, serve};

const README: &str = include_str!("../../../../README.md");

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let a = text.find(start).unwrap_or_else(|| panic!("README lacks {start:?}")) + start.len();
    let b = text[a..].find(end).unwrap_or_else(|| panic!("README lacks {end:?} after {start:?}")) + a;
    &text[a..b]
}

#[test]
fn the_readme_example_returns_the_documented_decision() {
    let request = between(README, "-d '", "'\n```");
    let documented: Value = serde_json::from_str(between(README, "```json\n", "```")).unwrap();
    let server = serve::<&str>(&[]);
    let (status, body) = post(&server.addr, "/v1/events", request).expect("answered");
    assert_eq!(status, 200, "{body}");
    let mut got: Value = serde_json::from_str(&body).unwrap();
    let mut want = documented;
    got.as_object_mut().unwrap().remove("latency_us");
    want.as_object_mut().unwrap().remove("latency_us");
    assert_eq!(got, want);
}
