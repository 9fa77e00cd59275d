//! Scoring the intent router against a set of phrasings: each line of the
//! set is `{"text", "operation", "arguments"}`; a phrasing passes when the
//! router calls that operation with every listed argument equal by value
//! (case-insensitive). A reply — a question, "did you mean" — is a miss.
//! `switchboard eval router` prints what this returns.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::router::{Catalog, Routed, route};

/// The set kept in the repository (`agents/eval/router.jsonl`).
pub const ROUTER_SET: &str = include_str!("../../eval/router.jsonl");

pub mod agent;

/// One phrasing and what it should become.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub text: String,
    pub operation: String,
    #[serde(default)]
    pub arguments: serde_json::Map<String, Value>,
}

/// Reads a set: one JSON object a line; blank lines and `#` comments skipped.
pub fn parse_set(text: &str) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let case: Case = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1))?;
        if switchboard_core::ops::OpKind::from_name(&case.operation).is_none() {
            return Err(format!("line {}: unknown operation {:?}", n + 1, case.operation));
        }
        cases.push(case);
    }
    if cases.is_empty() {
        return Err("the set has no phrasings".into());
    }
    Ok(cases)
}

/// A phrasing the router got wrong, with what it did instead.
#[derive(Clone, Debug)]
pub struct Miss {
    pub case: Case,
    pub got: Value,
}

/// Accuracy per operation and overall.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Operation → (passed, total).
    pub per_operation: BTreeMap<String, (usize, usize)>,
    pub passed: usize,
    pub total: usize,
    pub misses: Vec<Miss>,
}

impl Report {
    pub fn accuracy(&self) -> f64 {
        if self.total == 0 { 0.0 } else { self.passed as f64 / self.total as f64 }
    }

    /// The per-operation table, the misses, and the overall line.
    pub fn render(&self, show_misses: bool) -> String {
        let mut out = String::new();
        out.push_str(&format!("{:<22} {:>6} {:>6} {:>8}\n", "operation", "passed", "total", "accuracy"));
        for (op, (p, t)) in &self.per_operation {
            out.push_str(&format!("{op:<22} {p:>6} {t:>6} {:>7.1}%\n", 100.0 * *p as f64 / *t as f64));
        }
        if show_misses && !self.misses.is_empty() {
            out.push_str(&format!("\n{} miss(es):\n", self.misses.len()));
            for m in &self.misses {
                out.push_str(&format!(
                    "  {:?}\n    want {} {}\n    got  {}\n",
                    m.case.text,
                    m.case.operation,
                    Value::Object(m.case.arguments.clone()),
                    m.got
                ));
            }
        }
        out.push_str(&format!(
            "\nrouter accuracy: {:.1}% ({} of {} phrasings)\n",
            100.0 * self.accuracy(),
            self.passed,
            self.total
        ));
        out
    }
}

/// Whether two argument values are equal for the eval: strings compare
/// case-insensitively, numbers and booleans by value (`"7"` equals `7`).
pub fn same_value(want: &Value, got: &Value) -> bool {
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.trim().to_lowercase()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match (want, got) {
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(x, y)),
        (Value::Object(a), Value::Object(b)) => a.iter().all(|(k, x)| b.get(k).is_some_and(|y| same_value(x, y))),
        _ => match (text(want), text(got)) {
            (Some(a), Some(b)) => a == b,
            _ => want == got,
        },
    }
}

/// Whether `routed` is what `case` expects — and arguments the operation
/// accepts (a call its input would refuse is a miss too).
pub fn passes(case: &Case, routed: &Routed) -> bool {
    match routed {
        Routed::Call { operation, arguments, .. } => {
            operation.name() == case.operation
                && case.arguments.iter().all(|(k, want)| arguments.get(k).is_some_and(|got| same_value(want, got)))
                && switchboard_core::ops::Operation::parse(operation.name(), arguments.clone()).is_ok()
        }
        Routed::Reply { .. } | Routed::Choose { .. } => false,
    }
}

/// Routes every case and scores it.
pub fn run(cases: &[Case], catalog: &Catalog) -> Report {
    let mut report = Report::default();
    for case in cases {
        let routed = route(&case.text, catalog);
        let ok = passes(case, &routed);
        let entry = report.per_operation.entry(case.operation.clone()).or_default();
        entry.1 += 1;
        report.total += 1;
        if ok {
            entry.0 += 1;
            report.passed += 1;
        } else {
            report.misses.push(Miss { case: case.clone(), got: routed.to_json() });
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_compare_case_insensitively_and_by_value() {
        assert!(same_value(&json!("Payments"), &json!("payments")));
        assert!(same_value(&json!(7), &json!("7")));
        assert!(same_value(&json!(true), &json!(true)));
        assert!(!same_value(&json!(true), &json!(false)));
        assert!(!same_value(&json!("7d"), &json!("1w")));
        assert!(same_value(&json!({"package": "Redis"}), &json!({"package": "redis", "version": "7"})));
    }

    #[test]
    fn the_repository_set_parses_and_is_large_enough() {
        let cases = parse_set(ROUTER_SET).unwrap();
        assert!(cases.len() >= 400, "{}", cases.len());
        let ops: std::collections::HashSet<&str> = cases.iter().map(|c| c.operation.as_str()).collect();
        assert!(ops.len() >= 40, "{ops:?}");
        assert!(parse_set("{\"text\": \"x\", \"operation\": \"nope\"}").unwrap_err().contains("unknown operation"));
        assert!(parse_set("").is_err());
    }
}
