//! Checking a fact value against its declared type.

use crate::config::FactDecl;
use crate::model::{FactType, FactValue};

/// Longest text fact accepted.
pub const MAX_FACT_TEXT: usize = 4096;

/// Converts a JSON value to a fact value of the declared type. Strings that
/// spell a number or boolean are accepted for those types (chat sends text).
pub fn check_fact_value(decl: &FactDecl, value: &serde_json::Value) -> Result<FactValue, String> {
    use serde_json::Value as J;
    let text = match value {
        J::String(s) => Some(s.trim().to_owned()),
        J::Number(n) => Some(n.to_string()),
        J::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let Some(text) = text else {
        return Err(format!("expected a {} value, got {}", decl.fact_type.name(), kind(value)));
    };
    if text.len() > MAX_FACT_TEXT {
        return Err(format!("is longer than {MAX_FACT_TEXT} bytes"));
    }
    match &decl.fact_type {
        FactType::String => Ok(FactValue::Text(text)),
        FactType::Integer => match value {
            J::Number(n) => n.as_i64().map(FactValue::Integer).ok_or_else(|| format!("expected an integer, got {n}")),
            J::String(_) => {
                text.parse().map(FactValue::Integer).map_err(|_| format!("expected an integer, got {text:?}"))
            }
            _ => Err(format!("expected an integer, got {}", kind(value))),
        },
        FactType::Decimal => match text.parse::<f64>() {
            Ok(d) if d.is_finite() && !matches!(value, J::Bool(_)) => Ok(FactValue::Decimal(d)),
            _ => Err(format!("expected a decimal number, got {text:?}")),
        },
        FactType::Bool => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" => Ok(FactValue::Bool(true)),
            "false" | "no" => Ok(FactValue::Bool(false)),
            _ => Err(format!("expected true or false, got {text:?}")),
        },
        FactType::Enum { values } => {
            if values.contains(&text) {
                Ok(FactValue::Text(text))
            } else {
                Err(format!("expected one of {}, got {text:?}", values.join(", ")))
            }
        }
        FactType::Date => match chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            Ok(_) => Ok(FactValue::Text(text)),
            Err(_) => Err(format!("expected a date like 2026-01-31, got {text:?}")),
        },
    }
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decl(t: FactType) -> FactDecl {
        FactDecl { fact_type: t, weight: 1, description: String::new() }
    }

    #[test]
    fn each_type_checks() {
        assert_eq!(check_fact_value(&decl(FactType::Integer), &json!("42")), Ok(FactValue::Integer(42)));
        assert!(check_fact_value(&decl(FactType::Integer), &json!(1.5)).is_err());
        assert_eq!(check_fact_value(&decl(FactType::Decimal), &json!(99.9)), Ok(FactValue::Decimal(99.9)));
        assert_eq!(check_fact_value(&decl(FactType::Bool), &json!("yes")), Ok(FactValue::Bool(true)));
        assert!(check_fact_value(&decl(FactType::Bool), &json!("maybe")).is_err());
        let e = decl(FactType::Enum { values: vec!["1".into(), "2".into()] });
        assert_eq!(check_fact_value(&e, &json!(1)), Ok(FactValue::Text("1".into())));
        assert!(check_fact_value(&e, &json!("3")).unwrap_err().contains("one of 1, 2"));
        assert!(check_fact_value(&decl(FactType::Date), &json!("2026-02-30")).is_err());
        assert!(check_fact_value(&decl(FactType::String), &json!(["x"])).is_err());
        assert!(check_fact_value(&decl(FactType::String), &json!("x".repeat(5000))).is_err());
    }
}
