//! The CLI as a shell user meets it: output piped into a reader that stops
//! early, commands run where there is no store, and links that point where
//! the portal is actually served.

use std::io::Read;
use std::process::{Command, Stdio};

mod common;
use common::*;

#[test]
fn output_piped_into_head_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = run(&["demo", "--seed-only", "--data-dir", data, "--projects", "400"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Far more than a pipe's buffer, so the writer meets the closed pipe.
    let mut child = Command::new(BIN)
        .args(["op", "find_projects", "--data-dir", data, "--json", r#"{"limit": 500}"#])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let said = text(&out.stderr);
    assert!(!said.contains("panicked"), "{said}");
    assert_eq!(out.status.code(), Some(141), "ends as a process ended by SIGPIPE would: {said}");
}

#[test]
fn commands_refuse_to_make_a_store_where_there_is_none() {
    let cwd = tempfile::tempdir().unwrap();
    for args in [&["op", "find_projects"][..], &["route", "who owns orders"], &["chat"]] {
        let out = Command::new(BIN).args(args).current_dir(cwd.path()).stdin(Stdio::null()).output().unwrap();
        let said = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {said}");
        assert!(
            said.contains("no store at") && said.contains(".switchboard-demo") && said.contains("--data-dir"),
            "{args:?} names where it looked and the flag to use: {said}"
        );
    }
    assert!(!cwd.path().join(".switchboard-demo").exists(), "nothing was created");
}

#[test]
fn the_terminal_chat_links_to_the_port_the_demo_serves() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let port = free_port();
    let (server, _) = start(&["demo", "--port", &port.to_string(), "--data-dir", data], port);
    let said = text(&chat(data, "carol", "who owns orders?\nexit\n").stdout);
    assert!(said.contains(&format!("Open in portal: http://127.0.0.1:{port}/projects/orders")), "{said}");
    drop(server);
}
