//! Rules: deliveries → operations. A rule matches a source and event, and
//! optionally a minijinja expression over the payload; it finds the project
//! by an external id, builds the operation's arguments from JSON pointers and
//! templates, and the operation runs through `core::Service` like any other
//! (policy, validation, events). Built-in rules cover GitHub and PagerDuty;
//! more come from `[[rules]]` in the config file and `webhooks.rules_dir`.

use std::sync::Arc;

use async_trait::async_trait;
use minijinja::value::{Enumerator, Object};
use minijinja::{Environment, UndefinedBehavior, Value as Jinja, context};
use serde_json::{Map, Value, json};
use switchboard_core::config::{Config, ProjectMatch, RuleConfig};
use switchboard_core::inbox::Delivery;
use switchboard_core::ops::OpKind;
use switchboard_core::time::TimeArg;
use switchboard_core::{Error, Service};

use crate::messages;
use crate::process::{Failure, Mapped, Mapper};

/// The built-in rules, in the same format as the config file's.
pub const DEFAULT_RULES: &str = include_str!("default_rules.toml");

/// External id kinds a rule can find projects by.
const MATCH_KINDS: [&str; 3] = ["github_repository", "pagerduty_service", "slug"];

/// What one rule made of a delivery: the operation and its arguments, or why
/// it did not apply.
#[derive(Clone, Debug, PartialEq)]
pub enum Planned {
    Run {
        rule: String,
        operation: OpKind,
        arguments: Value,
    },
    /// The rule matched but its project is not in the graph.
    NoProject {
        rule: String,
        by: String,
        id: String,
    },
}

#[derive(Debug, thiserror::Error)]
#[error("rule {rule:?}: {message}")]
pub struct RuleError {
    pub rule: String,
    pub message: String,
}

pub struct RuleSet {
    rules: Vec<RuleConfig>,
    env: Arc<Environment<'static>>,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet").field("rules", &self.rules.len()).finish()
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // A typo in a field name is an empty value, not an error in production;
    // `check-config` and `rules test` show what a rule renders.
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.add_filter("epoch_ms", |s: String| -> Result<i64, minijinja::Error> {
        match TimeArg::parse(&s) {
            Ok(TimeArg::At(ms)) => Ok(ms),
            _ => Err(minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, format!("{s:?} is not a time"))),
        }
    });
    // A name as a project slug: lowercase, runs of anything else become one `-`.
    env.add_filter("slug", |s: String| -> String { switchboard_core::ids::slugify(&s) });
    env
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rules: Vec<RuleConfig>,
}

impl RuleSet {
    /// The built-in rules (unless `webhooks.default_rules = false`), then the
    /// config file's, then each `*.toml` in `webhooks.rules_dir` by name;
    /// every rule is checked.
    pub fn load(config: &Config) -> Result<Self, RuleError> {
        let mut rules = Vec::new();
        if config.webhooks.default_rules {
            rules.extend(parse_rules(DEFAULT_RULES, "built-in rules")?);
        }
        rules.extend(config.rules.iter().cloned());
        if let Some(dir) = &config.webhooks.rules_dir {
            let err = |m: String| RuleError { rule: dir.display().to_string(), message: m };
            let mut files: Vec<_> = std::fs::read_dir(dir)
                .map_err(|e| err(format!("cannot read the rules directory: {e}")))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            files.sort();
            for file in files {
                let text =
                    std::fs::read_to_string(&file).map_err(|e| err(format!("cannot read {}: {e}", file.display())))?;
                rules.extend(parse_rules(&text, &file.display().to_string())?);
            }
        }
        let mut env = environment();
        for rule in &rules {
            check(&env, rule)?;
        }
        // Every template and condition compiled once, here, not per delivery.
        for rule in &rules {
            let err = |e: minijinja::Error| RuleError { rule: rule.name.clone(), message: e.to_string() };
            if let Some(expr) = &rule.when {
                env.add_template_owned(when_key(expr), format!("{{% if {expr} %}}1{{% endif %}}")).map_err(err)?;
            }
            let templates =
                rule.project.iter().map(|p| p.id.as_str()).chain(rule.args.values().filter_map(|v| match v {
                    Value::String(t) => Some(t.as_str()),
                    Value::Object(o) => o.get("template").and_then(Value::as_str),
                    _ => None,
                }));
            for t in templates {
                env.add_template_owned(template_key(t), t.to_owned()).map_err(err)?;
            }
        }
        Ok(Self { rules, env: Arc::new(env) })
    }

    /// `text` rendered with its template compiled at load.
    fn render(&self, text: &str, ctx: &Jinja) -> Result<String, minijinja::Error> {
        match self.env.get_template(&template_key(text)) {
            Ok(t) => t.render(ctx),
            Err(_) => self.env.render_str(text, ctx),
        }
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// The names a rule's compiled condition and templates are kept under.
fn when_key(expr: &str) -> String {
    format!("when:{expr}")
}

fn template_key(text: &str) -> String {
    format!("text:{text}")
}

/// Checks a rule: a known, non-automation operation, conditions and
/// templates that parse, arguments of a known shape.
fn check(env: &Environment<'static>, rule: &RuleConfig) -> Result<(), RuleError> {
    let err = |m: String| RuleError { rule: rule.name.clone(), message: m };
    let kind = OpKind::from_name(&rule.op).ok_or_else(|| err(format!("unknown operation {:?}", rule.op)))?;
    if kind.effect() == switchboard_core::ops::Effect::Automation {
        return Err(err(format!("{} is an automation; rules only record facts and events", rule.op)));
    }
    if let Some(expr) = &rule.when {
        if expr.trim().is_empty() {
            return Err(err("`when` is empty: leave it out to match every delivery".into()));
        }
        // In parentheses: minijinja's expression lexer panics on a `}}`
        // outside brackets ("empty lexer stack") instead of failing.
        env.compile_expression(&format!("({expr})")).map_err(|e| err(format!("`when` does not parse: {e}")))?;
    }
    if let Some(p) = &rule.project {
        if !MATCH_KINDS.contains(&p.by.as_str()) {
            return Err(err(format!("project.by must be one of {}", MATCH_KINDS.join(", "))));
        }
        env.template_from_str(&p.id).map_err(|e| err(format!("project.id does not parse: {e}")))?;
    }
    for (name, value) in &rule.args {
        match value {
            Value::String(t) => {
                env.template_from_str(t).map_err(|e| err(format!("args.{name} does not parse: {e}")))?;
            }
            Value::Object(o) if o.contains_key("pointer") => {
                let ok = o.len() == 1 && o["pointer"].as_str().is_some_and(|p| p.is_empty() || p.starts_with('/'));
                if !ok {
                    return Err(err(format!("args.{name}: a pointer is {{ pointer = \"/a/b\" }}")));
                }
            }
            Value::Object(o) if o.contains_key("template") => {
                let t = o["template"].as_str().ok_or_else(|| err(format!("args.{name}.template must be text")))?;
                env.template_from_str(t).map_err(|e| err(format!("args.{name} does not parse: {e}")))?;
                let as_ = o.get("as").and_then(Value::as_str).unwrap_or("text");
                if !["text", "integer", "number", "bool", "json"].contains(&as_)
                    || o.keys().any(|k| k != "template" && k != "as")
                {
                    return Err(err(format!("args.{name}: `as` is text, integer, number, bool or json")));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A delivery's JSON as the rules' templates read it: an object becomes
/// template values only where a template looks into it. Converted whole,
/// the 7 KB push was a sixteenth of processing, for the two fields its rule
/// reads.
#[derive(Debug)]
struct Payload {
    root: Arc<Value>,
    /// Where this object is in `root` (a JSON pointer).
    at: String,
}

impl Payload {
    fn value(root: &Arc<Value>, at: String) -> Jinja {
        match root.pointer(&at) {
            Some(Value::Object(_)) => Jinja::from_object(Payload { root: root.clone(), at }),
            Some(other) => Jinja::from_serialize(other),
            None => Jinja::UNDEFINED,
        }
    }

    fn fields(&self) -> &Map<String, Value> {
        self.root.pointer(&self.at).and_then(Value::as_object).expect("made for an object only")
    }
}

impl Object for Payload {
    fn get_value(self: &Arc<Self>, key: &Jinja) -> Option<Jinja> {
        let key = key.as_str().filter(|k| self.fields().contains_key(*k))?;
        Some(Payload::value(&self.root, format!("{}/{}", self.at, key.replace('~', "~0").replace('/', "~1"))))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.fields().keys().map(|k| Jinja::from(k.as_str())).collect())
    }
}

impl RuleSet {
    /// What the rules make of a delivery, without running anything.
    pub async fn plan(
        &self,
        service: &Service,
        source: &str,
        event: &str,
        payload: &Arc<Value>,
    ) -> Result<Vec<Planned>, RuleError> {
        let ctx = context! {
            payload => Payload::value(payload, String::new()),
            event => event,
            source => source,
            new_repositories => Jinja::from_serialize(&service.config().webhooks.new_repositories),
        };
        let mut planned = Vec::new();
        for rule in self.rules.iter().filter(|r| r.source == source && r.event.contains(event)) {
            let err = |m: String| RuleError { rule: rule.name.clone(), message: m };
            if let Some(expr) = &rule.when {
                let holds = self
                    .env
                    .get_template(&when_key(expr))
                    .and_then(|t| t.render(&ctx))
                    .map_err(|e| err(format!("`when` failed: {e}")))?;
                if holds != "1" {
                    continue;
                }
            }
            let mut arguments = Map::new();
            for (name, spec) in &rule.args {
                if let Some(v) = self.argument(spec, payload, &ctx).map_err(|m| err(format!("args.{name}: {m}")))? {
                    arguments.insert(name.clone(), v);
                }
            }
            if let Some(ProjectMatch { by, id }) = &rule.project {
                let id = self.render(id, &ctx).map_err(|e| err(format!("project.id: {e}")))?;
                let slug = match by.as_str() {
                    "slug" => Some(id.clone()),
                    kind => service
                        .graph()
                        .project_by_external_id(kind, &id)
                        .await
                        .map_err(|e| err(format!("cannot look up the project: {e}")))?
                        .map(|s| s.to_string()),
                };
                match slug {
                    Some(slug) => {
                        arguments.insert("project".into(), json!(slug));
                    }
                    None => {
                        planned.push(Planned::NoProject { rule: rule.name.clone(), by: by.clone(), id });
                        continue;
                    }
                }
            }
            let operation = OpKind::from_name(&rule.op).expect("checked at load");
            planned.push(Planned::Run { rule: rule.name.clone(), operation, arguments: Value::Object(arguments) });
        }
        Ok(planned)
    }

    fn argument(&self, spec: &Value, payload: &Value, ctx: &Jinja) -> Result<Option<Value>, String> {
        let render = |t: &str| self.render(t, ctx).map_err(|e| e.to_string());
        Ok(match spec {
            Value::String(t) if t.contains("{{") || t.contains("{%") => {
                Some(render(t)?).filter(|s| !s.is_empty()).map(Value::String)
            }
            Value::Object(o) if o.contains_key("pointer") => {
                payload.pointer(o["pointer"].as_str().unwrap_or_default()).filter(|v| !v.is_null()).cloned()
            }
            Value::Object(o) if o.contains_key("template") => {
                let text = render(o["template"].as_str().unwrap_or_default())?;
                let text = text.trim();
                if text.is_empty() {
                    return Ok(None);
                }
                Some(match o.get("as").and_then(Value::as_str).unwrap_or("text") {
                    "integer" => json!(text.parse::<i64>().map_err(|_| format!("{text:?} is not an integer"))?),
                    "number" => json!(text.parse::<f64>().map_err(|_| format!("{text:?} is not a number"))?),
                    "bool" => json!(text.parse::<bool>().map_err(|_| format!("{text:?} is not true or false"))?),
                    "json" => serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?,
                    _ => json!(text),
                })
            }
            other => Some(other.clone()),
        })
    }
}

fn parse_rules(text: &str, origin: &str) -> Result<Vec<RuleConfig>, RuleError> {
    toml::from_str::<RulesFile>(text)
        .map(|f| f.rules)
        .map_err(|e| RuleError { rule: origin.to_owned(), message: e.to_string() })
}

/// Runs the rules' operations through the service, as the sender.
pub struct RulesMapper {
    rules: Arc<RuleSet>,
    service: Service,
}

impl RulesMapper {
    pub fn new(rules: Arc<RuleSet>, service: Service) -> Self {
        Self { rules, service }
    }
}

#[async_trait]
impl Mapper for RulesMapper {
    async fn apply(&self, d: &Delivery, payload: &Arc<Value>) -> Result<Mapped, Failure> {
        let planned = self
            .rules
            .plan(&self.service, &d.source, &d.event, payload)
            .await
            .map_err(|e| Failure::permanent(e.to_string()))?;
        let caller = switchboard_core::policy::webhook_caller(&d.source);
        let mut ran = Vec::new();
        let mut missing = Vec::new();
        for p in planned {
            match p {
                Planned::Run { rule, operation, arguments } => {
                    match self.service.execute_json(&caller, operation.name(), arguments).await {
                        Ok(_) => ran.push(format!("{} ({rule})", operation.name())),
                        // Already done (the project exists…): nothing left to do.
                        Err(e @ Error::Conflict { .. }) => {
                            ran.push(format!("{} ({rule}): nothing to do, {e}", operation.name()));
                        }
                        Err(e @ Error::Internal { .. }) => {
                            return Err(Failure::retry(format!("rule {rule:?}: {e}")));
                        }
                        // Bad input, an unknown name…: retrying cannot help; fix the rule and replay.
                        Err(e) => return Err(Failure::permanent(format!("rule {rule:?}: {e}"))),
                    }
                }
                Planned::NoProject { rule, by, id } => missing.push(format!("{rule}: no project with {by} {id}")),
            }
        }
        if ran.is_empty() {
            let reason = if missing.is_empty() { messages::no_rule(&d.source, &d.event) } else { missing.join("; ") };
            return Ok(Mapped::Unmapped(reason));
        }
        let mut summary = ran.join("; ");
        if !missing.is_empty() {
            summary.push_str(&format!("; skipped {}", missing.join("; ")));
        }
        Ok(Mapped::Ran(summary))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The payload read where templates look reads as the whole converted would.
    #[test]
    fn a_payload_read_in_place_renders_as_converted_whole() {
        let payload = Arc::new(json!({
            "ref": "refs/heads/main", "deleted": false, "size": 2,
            "commits": [{"id": "a1", "added": ["Cargo.lock"]}, {"id": "b2", "added": []}],
            "repository": {"full_name": "acme/orders", "owner": {"login": "acme"}, "topics": []},
            "a/b~c": {"x": 1}, "empty": {},
        }));
        let env = environment();
        for template in [
            "{{ payload.repository.full_name }} {{ payload.repository.owner.login }}",
            "{{ payload.commits | length }} {{ payload.commits[1].id }} {{ payload.commits[0].added | join(',') }}",
            "{% if payload.ref == 'refs/heads/main' and not payload.deleted %}main{% endif %}",
            "{{ payload.repository | tojson }} {{ payload['a/b~c'].x }} {{ payload.size + 1 }}",
            "{{ payload.nothing is defined }} {{ payload.repository.nothing.deeper }}|{{ payload.empty | length }}",
            "{% for k in payload.repository | sort %}{{ k }} {% endfor %}{{ payload.repository.topics }}",
            "{{ payload.repository | items | list | length }} {% if payload.empty %}full{% else %}empty{% endif %}",
        ] {
            let render = |value: Jinja| env.render_str(template, context! { payload => value }).unwrap();
            assert_eq!(
                render(Payload::value(&payload, String::new())),
                render(Jinja::from_serialize(&*payload)),
                "{template}"
            );
        }
    }
}
