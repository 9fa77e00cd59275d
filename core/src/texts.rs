//! The texts an operator may reword: the first line of a notification, an
//! approval request, a run's outcome, a deployment's end in its run's
//! thread, and the project page's extra panels. Each is a minijinja
//! template built in (`templates/texts/`), overridden by a file of the same
//! name in `texts.dir`; every override is parsed and rendered against a
//! sample of its context when the config loads, so a broken one refuses to
//! start with its file and line. Texts are words and HTML fragments only:
//! cards, fields and buttons stay in code.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use serde_json::{Value, json};

/// Each text: its file name and its built-in source.
const TEXTS: [(&str, &str); 5] = [
    ("notification.txt", include_str!("../../templates/texts/notification.txt")),
    ("approval_request.txt", include_str!("../../templates/texts/approval_request.txt")),
    ("run_outcome.txt", include_str!("../../templates/texts/run_outcome.txt")),
    ("deployment_finished.txt", include_str!("../../templates/texts/deployment_finished.txt")),
    ("project_panels.html", include_str!("../../templates/texts/project_panels.html")),
];

/// The names of the texts, for messages and docs.
pub fn names() -> impl Iterator<Item = &'static str> {
    TEXTS.iter().map(|t| t.0)
}

/// Contexts each text must render with when it loads: every shape it is
/// given in use (a notification of each kind, a run decided and finished).
fn samples(name: &str) -> Vec<Value> {
    let project = json!({
        "slug": "orders", "name": "Orders", "description": "Takes orders", "team": "checkout", "type": "api",
        "score": 82, "facts": {"tier": "1", "runbook_url": "https://runbooks.example/orders"},
        "links": [{"title": "Repository", "url": "https://github.com/acme/orders"}],
        "environments": ["staging", "production"], "github_repository": "acme/orders", "pagerduty_service": null,
        "web_facts": [{"key": "runbook_url", "label": "Runbook", "url": "https://runbooks.example/orders"}],
    });
    let base = |kind: &str, extra: Value| {
        let mut v = json!({"kind": kind, "project": "orders", "team": "checkout"});
        if let (Some(v), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
            v.extend(extra.clone());
        }
        v
    };
    let incident =
        json!({"incident": {"title": "Checkout is slow", "status": "triggered", "severity": "high", "url": null}});
    let deployment = |status: &str| json!({"deployment": {"version": "2.0.0", "environment": "staging", "status": status, "url": null}});
    let run = json!({"id": "01936d2e-0000-7000-8000-000000000000", "operation": "deploy", "project": "orders"});
    match name {
        "notification.txt" => vec![
            base("incident_triggered", incident.clone()),
            base("incident_resolved", incident),
            base("deployment_failed", deployment("failed")),
            base("deployment_failed", deployment("rolled_back")),
            base("deployment_succeeded", deployment("succeeded")),
            base("build_anomaly", json!({"build": {"took": "3 min", "usual": "60 s"}})),
            base("score_dropped", json!({"score": {"from": 80, "to": 60}})),
            base(
                "vulnerability_found",
                json!({"vulnerability": {"advisory": "CVE-2025-29923 (GO-2025-3540)", "severity": "high",
                    "package": "github.com/redis/go-redis/v9", "version": "v9.5.1", "fixed": "v9.6.3",
                    "summary": "Out of order responses", "transitive": false}}),
            ),
            base(
                "vulnerability_found",
                json!({"vulnerability": {"advisory": "GHSA-9v2f-6vcg-3hgv", "severity": "critical",
                    "package": "gradio", "version": "4.36.1", "fixed": null, "summary": "", "transitive": true}}),
            ),
        ],
        "approval_request.txt" => {
            vec![
                json!({"requested_by": "carol", "summary": "Deploy orders 2.0.0 to staging", "role": "approver", "run": run}),
            ]
        }
        "run_outcome.txt" => vec![
            json!({"summary": "Deploy orders 2.0.0 to staging", "status": "approved", "by": "bob"}),
            json!({"summary": "Deploy orders 2.0.0 to staging", "status": "succeeded", "by": null}),
        ],
        "deployment_finished.txt" => vec![json!({
            "project": "orders", "version": "2.0.0", "environment": "staging", "status": "succeeded", "url": null, "run": run
        })],
        _ => vec![json!({"project": project})],
    }
}

/// The texts in use: the built-in ones, with a directory's overrides.
pub struct Texts {
    /// The `.txt` texts: a misspelt name is an error (caught at load).
    env: Environment<'static>,
    /// The `.html` panels, whose facts differ from project to project: a
    /// fact a project does not have is empty there.
    panels: Environment<'static>,
    /// Where overrides were read from, and which (name, source).
    dir: Option<PathBuf>,
    overrides: Vec<(String, String)>,
}

fn environment(undefined: UndefinedBehavior) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(undefined);
    env
}

/// The environments a text of `name` lives in: panels (`.html`) lenient,
/// the rest strict about printing names the context does not have
/// (testing one with `if` is fine).
fn environments() -> (Environment<'static>, Environment<'static>) {
    (environment(UndefinedBehavior::SemiStrict), environment(UndefinedBehavior::Lenient))
}

fn is_panel(name: &str) -> bool {
    name.ends_with(".html")
}

/// "file, line N: what" for a template error.
fn located(file: &Path, e: &minijinja::Error) -> String {
    let line = e.line().map(|l| format!(", line {l}")).unwrap_or_default();
    let what = e.detail().map(str::to_owned).unwrap_or_else(|| e.kind().to_string());
    format!("{}{line}: {what}", file.display())
}

static BUILT_IN: LazyLock<Arc<Texts>> = LazyLock::new(|| {
    let (mut env, mut panels) = environments();
    for (name, source) in TEXTS {
        let into = if is_panel(name) { &mut panels } else { &mut env };
        into.add_template(name, source).unwrap_or_else(|e| panic!("built-in text {name}: {e}"));
    }
    Arc::new(Texts { env, panels, dir: None, overrides: Vec::new() })
});

impl Texts {
    /// The built-in texts.
    pub fn built_in() -> Arc<Texts> {
        BUILT_IN.clone()
    }

    /// The built-in texts with each file in `dir` in place of the one of
    /// its name. A file that is not one of the texts, does not parse, or
    /// does not render with its sample context is an error naming the file
    /// (and the line).
    pub fn load(dir: &Path) -> Result<Texts, String> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("cannot read the directory {}: {e}", dir.display()))?;
        let mut overrides = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| format!("cannot read the directory {}: {e}", dir.display()))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else { continue };
            if name.starts_with('.') || path.is_dir() {
                continue;
            }
            if !TEXTS.iter().any(|t| t.0 == name) {
                let known: Vec<&str> = names().collect();
                return Err(format!(
                    "{}: not a text Switchboard renders (one of: {})",
                    path.display(),
                    known.join(", ")
                ));
            }
            let source = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            overrides.push((name, source, path));
        }
        overrides.sort();
        let (mut env, mut panels) = environments();
        for (name, source) in TEXTS {
            if !overrides.iter().any(|o| o.0 == name) {
                let into = if is_panel(name) { &mut panels } else { &mut env };
                into.add_template(name, source).map_err(|e| format!("built-in {name}: {e}"))?;
            }
        }
        for (name, source, path) in &overrides {
            let into = if is_panel(name) { &mut panels } else { &mut env };
            into.add_template_owned(name.clone(), source.clone()).map_err(|e| located(path, &e))?;
        }
        for (name, _, path) in &overrides {
            let from = if is_panel(name) { &panels } else { &env };
            let template = from.get_template(name).map_err(|e| located(path, &e))?;
            for sample in samples(name) {
                template.render(&sample).map_err(|e| located(path, &e))?;
            }
        }
        let overrides = overrides.into_iter().map(|(name, source, _)| (name, source)).collect();
        Ok(Texts { env, panels, dir: Some(dir.to_owned()), overrides })
    }

    /// The names overridden from the directory.
    pub fn overridden(&self) -> impl Iterator<Item = &str> {
        self.overrides.iter().map(|o| o.0.as_str())
    }

    /// `name` rendered with `context`, its ends trimmed. An override that
    /// fails on a context its sample did not foresee is logged and the
    /// built-in text said instead: a notification is never lost to a text.
    pub fn render(&self, name: &str, context: &impl Serialize) -> String {
        let from = if is_panel(name) { &self.panels } else { &self.env };
        let rendered = from.get_template(name).and_then(|t| t.render(context));
        match rendered {
            Ok(s) => s.trim().to_owned(),
            Err(e) if self.dir.is_some() => {
                tracing::warn!(text = name, error = %e, "an operator text failed; saying the built-in one");
                BUILT_IN.render(name, context)
            }
            Err(e) => {
                tracing::error!(text = name, error = %e, "a built-in text failed");
                String::new()
            }
        }
    }
}

impl PartialEq for Texts {
    fn eq(&self, other: &Self) -> bool {
        self.dir == other.dir && self.overrides == other.overrides
    }
}

impl std::fmt::Debug for Texts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Texts")
            .field("dir", &self.dir)
            .field("overridden", &self.overridden().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_texts_render_every_sample() {
        let texts = Texts::built_in();
        for name in names() {
            for sample in samples(name) {
                let said = texts.render(name, &sample);
                assert!(!said.is_empty() || name.ends_with(".html"), "{name}: {sample}");
            }
        }
        let said = texts.render("notification.txt", &samples("notification.txt")[3]);
        assert_eq!(said, "Deployment of 2.0.0 to staging was rolled back");
        let panels = texts.render("project_panels.html", &samples("project_panels.html")[0]);
        // Escaped as HTML attributes are (a browser reads `&#x2f;` as `/`).
        let link = r#"<a href="https:&#x2f;&#x2f;runbooks.example&#x2f;orders" rel="noopener">Runbook</a>"#;
        assert!(panels.contains(link), "{panels}");
    }

    #[test]
    fn overrides_are_checked_when_they_load() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("run_outcome.txt", "{{ summary }} — {{ status }}{% if by %} ({{ by }}){% endif %}");
        let texts = Texts::load(dir.path()).unwrap();
        assert_eq!(texts.overridden().collect::<Vec<_>>(), ["run_outcome.txt"]);
        let said = texts.render("run_outcome.txt", &json!({"summary": "Deploy", "status": "denied", "by": "bob"}));
        assert_eq!(said, "Deploy — denied (bob)");
        // Untouched texts stay built in.
        assert_eq!(
            texts.render("deployment_finished.txt", &samples("deployment_finished.txt")[0]),
            "Deployment of 2.0.0 to staging: succeeded."
        );

        // A syntax error: the file and its line.
        write("notification.txt", "Incident:\n{{ incident.title }\n");
        let err = Texts::load(dir.path()).unwrap_err();
        assert!(err.contains("notification.txt, line 2: "), "{err}");
        // A misspelt name, found by rendering the sample.
        write("notification.txt", "Incident:\n\n{{ incident.tittle }}");
        let err = Texts::load(dir.path()).unwrap_err();
        assert!(err.contains("notification.txt, line 3: "), "{err}");
        std::fs::remove_file(dir.path().join("notification.txt")).unwrap();
        // A file that is no text.
        write("notifications.txt", "x");
        let err = Texts::load(dir.path()).unwrap_err();
        assert!(err.contains("notifications.txt: not a text Switchboard renders (one of: notification.txt, "), "{err}");
        std::fs::remove_file(dir.path().join("notifications.txt")).unwrap();
        // A name the context does not have, deeper down.
        write("approval_request.txt", "{{ summary }} by {{ run.requested_by.name }}");
        let err = Texts::load(dir.path()).unwrap_err();
        assert!(err.contains("approval_request.txt, line 1"), "{err}");
        std::fs::remove_file(dir.path().join("approval_request.txt")).unwrap();
        // A panel may name a fact a project does not have: empty there, not an error.
        write("project_panels.html", "<p>{{ project.facts.not_set_here }}</p>");
        let texts = Texts::load(dir.path()).unwrap();
        assert_eq!(texts.render("project_panels.html", &samples("project_panels.html")[0]), "<p></p>");
        // No directory: said so.
        let err = Texts::load(&dir.path().join("missing")).unwrap_err();
        assert!(err.starts_with("cannot read the directory "), "{err}");
    }
}
