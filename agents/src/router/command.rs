//! Command syntax for any operation: `/sb NAME {json}`, `/sb NAME key=value …`
//! or `/sb NAME value …` (values fill the required fields in order).

use serde_json::{Map, Value};
use switchboard_core::ops::OpKind;

use super::Routed;
use super::text::Cleaned;
use crate::messages;

/// A `key=value` value: numbers, booleans and null as JSON, the rest as text.
fn scalar(v: &str) -> Value {
    match serde_json::from_str::<Value>(v) {
        Ok(j @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => j,
        _ => Value::String(v.trim_matches('"').to_owned()),
    }
}

fn required_fields(kind: OpKind) -> Vec<String> {
    kind.input_schema()["required"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

pub(super) fn operation(kind: OpKind, c: &Cleaned) -> Routed {
    let name = kind.name();
    // JSON arguments: everything from the first `{`.
    if let Some(start) = c.text.find(['{', '[']) {
        return match serde_json::from_str::<Value>(c.text[start..].trim()) {
            Ok(v @ Value::Object(_)) => Routed::call(kind, v),
            Ok(_) => Routed::reply(messages::bad_command(name, "the arguments must be a JSON object")),
            Err(e) => Routed::reply(messages::bad_command(name, &format!("that is not valid JSON ({e})"))),
        };
    }
    let rest = &c.raw[1..];
    let mut args = Map::new();
    let mut positional = Vec::new();
    // Re-join quoted values: key="two words".
    let mut i = 0;
    while i < rest.len() {
        let w = &rest[i];
        if let Some((k, v)) = w.split_once('=') {
            let mut value = v.to_owned();
            if value.starts_with('"') && !(value.len() > 1 && value.ends_with('"')) {
                while i + 1 < rest.len() {
                    i += 1;
                    value.push(' ');
                    value.push_str(&rest[i]);
                    if rest[i].ends_with('"') {
                        break;
                    }
                }
            }
            if k.is_empty() {
                return Routed::reply(messages::bad_command(name, &format!("{w} has no name before `=`")));
            }
            args.insert(k.to_lowercase(), scalar(&value));
        } else {
            positional.push(w.clone());
        }
        i += 1;
    }
    let missing: Vec<String> = required_fields(kind).into_iter().filter(|f| !args.contains_key(f)).collect();
    if positional.len() > missing.len() {
        let extra = positional[missing.len()..].join(" ");
        return Routed::reply(messages::bad_command(
            name,
            &format!("I don't know where `{extra}` goes; use key=value"),
        ));
    }
    for (field, value) in missing.iter().zip(&positional) {
        args.insert(field.clone(), scalar(value));
    }
    if let Some(field) = missing.get(positional.len()) {
        return Routed::reply(messages::bad_command(name, &format!("`{field}` is missing")));
    }
    Routed::call(kind, Value::Object(args))
}
