//! Every main portal page in a real browser (headless Chromium driven by
//! playwright-core; `scripts/setup-browser` installs both) at a desktop and
//! a phone width: no horizontal overflow, landmarks and a skip link,
//! headings from h1, AA contrast for badges and muted text, axe-core's
//! WCAG 2.0-2.2 A/AA rules with no serious or critical violation, and a
//! select that submits on change left alone by the arrow keys
//! (tests/browser/pages.mjs says which page and element fails).

use std::path::Path;
use std::process::Command;

mod common;
use common::*;

#[test]
fn every_page_reads_at_desktop_and_phone_widths() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(
        root.join("tests/browser/node_modules/playwright-core/package.json").exists(),
        "playwright-core is missing: run scripts/setup-browser (it also installs Chromium)"
    );
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (server, _) = start(&["demo", "--port", &port.to_string(), "--data-dir", dir.path().to_str().unwrap()], port);
    let out = Command::new("node")
        .arg(root.join("tests/browser/pages.mjs"))
        .arg(&server.base)
        .output()
        .expect("node runs (scripts/setup-browser)");
    drop(server);
    assert!(out.status.success(), "pages failed in the browser:\n{}\n{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("pages ok"));
}
