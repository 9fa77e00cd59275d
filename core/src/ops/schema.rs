//! Compact input schemas: what the agent's and MCP's tool catalogs carry
//! (titles, patterns and `$ref`s trimmed, definitions inlined).

pub(super) fn compact(v: &mut serde_json::Value) {
    compact_in(v, false);
}

/// Replaces each `{"$ref": "#/$defs/X"}` with X itself and drops `$defs`:
/// the types are small, and references cost an agent more than they save.
pub(super) fn inline_defs(v: &mut serde_json::Value) {
    fn replace(v: &mut serde_json::Value, defs: &serde_json::Map<String, serde_json::Value>) {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(r)) = map.get("$ref")
                    && let Some(def) = r.strip_prefix("#/$defs/").and_then(|n| defs.get(n))
                    && let serde_json::Value::Object(def) = def.clone()
                {
                    map.remove("$ref");
                    for (k, val) in def {
                        map.entry(k).or_insert(val);
                    }
                }
                map.values_mut().for_each(|c| replace(c, defs));
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|c| replace(c, defs)),
            _ => {}
        }
    }
    let Some(serde_json::Value::Object(defs)) = v.as_object_mut().and_then(|m| m.remove("$defs")) else { return };
    // Definitions may refer to each other: resolve them first.
    let mut resolved = defs.clone();
    for _ in 0..3 {
        let snapshot = resolved.clone();
        resolved.values_mut().for_each(|d| replace(d, &snapshot));
    }
    replace(v, &resolved);
}

/// `names` is true for a `properties` or `$defs` map, whose keys are names,
/// not schema keywords.
fn compact_in(v: &mut serde_json::Value, names: bool) {
    use serde_json::Value;
    match v {
        Value::Object(map) if names => {
            for child in map.values_mut() {
                compact_in(child, false);
            }
        }
        // Shared types under `$defs` are named; their prose repeats the name.
        Value::Object(map) if map.contains_key("$defs") => {
            if let Some(Value::Object(defs)) = map.get_mut("$defs") {
                for def in defs.values_mut() {
                    if let Value::Object(d) = def {
                        d.remove("description");
                    }
                }
            }
            let defs = map.remove("$defs");
            compact_in(v, false);
            if let (Value::Object(map), Some(mut defs)) = (v, defs) {
                compact_in(&mut defs, true);
                map.insert("$defs".into(), defs);
            }
        }
        Value::Object(map) => {
            for key in ["$schema", "title", "pattern", "additionalProperties", "patternProperties", "format", "minimum"]
            {
                map.remove(key);
            }
            // `["string", "null"]` → `"string"`: optional fields are simply not required.
            if let Some(Value::Array(types)) = map.get("type") {
                let non_null: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                if non_null.len() == 1 {
                    map.insert("type".into(), non_null[0].clone());
                } else {
                    map.insert("type".into(), Value::Array(non_null));
                }
            }
            // `anyOf: [X, {type: null}]` → X.
            if let Some(Value::Array(any)) = map.get("anyOf") {
                let non_null: Vec<Value> =
                    any.iter().filter(|a| a.get("type") != Some(&Value::from("null"))).cloned().collect();
                if non_null.len() == 1
                    && let Value::Object(inner) = &non_null[0]
                {
                    let inner = inner.clone();
                    map.remove("anyOf");
                    map.extend(inner);
                }
            }
            // Identifier rules and long notes cost tokens and tell an agent little.
            let drop = match map.get_mut("description") {
                Some(Value::String(d)) => {
                    if d.ends_with('.') {
                        d.pop();
                    }
                    d.len() > 90 || d.contains(" characters")
                }
                _ => false,
            };
            if drop {
                map.remove("description");
            }
            for (key, child) in map.iter_mut() {
                compact_in(child, key == "properties" || key == "$defs");
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| compact_in(i, false)),
        _ => {}
    }
}

#[cfg(test)]
mod compact_tests {
    use crate::ops::OpKind;

    #[test]
    fn compact_schemas_keep_every_property_and_requirement() {
        for k in OpKind::ALL {
            let full = k.input_schema();
            let small = k.compact_input_schema();
            assert_eq!(full["required"], small["required"], "{}", k.name());
            let names = |v: &serde_json::Value| {
                v["properties"].as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default()
            };
            assert_eq!(names(&full), names(&small), "{}", k.name());
        }
        let schema = OpKind::CreateProject.compact_input_schema();
        let link = &schema["properties"]["links"]["items"];
        assert!(link["properties"]["title"].is_object(), "a property called title survives: {link}");
        assert_eq!(
            schema["properties"]["dependencies"]["items"]["properties"]["ecosystem"]["enum"][0], "cargo",
            "{schema}"
        );
        assert!(!schema.to_string().contains("$ref"), "{schema}");
    }
}
