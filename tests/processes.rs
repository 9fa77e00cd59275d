//! Several processes on one store (an SQLite file on one machine): what one
//! `serve` keeps, another finds.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;

const SLACK_SECRET: &str = "processes-slack-secret";

/// Two `serve` replicas on one data directory.
fn replicas(dir: &std::path::Path) -> [(Server, std::path::PathBuf); 2] {
    let data = dir.join("data");
    let make = |name: &str| {
        let port = free_port();
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(
            &path,
            format!(
                "[server]\nbind = \"127.0.0.1\"\nport = {port}\n\n[store]\ndata_dir = {data:?}\n\n[slack]\nsigning_secret = {SLACK_SECRET:?}\n"
            ),
        )
        .unwrap();
        (port, path)
    };
    let (port_a, config_a) = make("a");
    let (port_b, config_b) = make("b");
    // An account to sign in with, made before either replica starts.
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["user", "set-password", "--user", "erin", "--role", "approver", "--config", config_a.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a long enough passphrase\n").unwrap();
    assert!(child.wait().unwrap().success());
    let (a, _) = start(&["serve", "--config", config_a.to_str().unwrap()], port_a);
    let (b, _) = start(&["serve", "--config", config_b.to_str().unwrap()], port_b);
    [(a, config_a), (b, config_b)]
}

/// A form body of `pairs`.
fn form(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect::<String>()
    };
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

/// The value of cookie `name` among a response's `Set-Cookie` headers.
fn cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&format!("{name}=")).map(|rest| rest.split(';').next().unwrap_or("").to_owned()))
        .unwrap_or_else(|| panic!("no {name} cookie"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_code_made_by_one_replica_is_redeemed_on_another() {
    switchboard_agents::install_tls_provider();
    let dir = tempfile::tempdir().unwrap();
    let [(a, _), (b, _)] = replicas(dir.path());
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    // `/sb link` in Slack, answered by replica A.
    let body = "command=%2Fsb&text=link&user_id=U0PROC1&channel_id=C0PROC1";
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
    let signature = switchboard_bot::slack::verify::sign(SLACK_SECRET, &stamp, body.as_bytes());
    let answer: serde_json::Value = http
        .post(format!("{}/slack/commands", a.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", &stamp)
        .header("x-slack-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let said = answer.to_string();
    let code: String = said
        .split("link code is ")
        .nth(1)
        .unwrap_or_else(|| panic!("no code in {said}"))
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    assert_eq!(code.len(), 8, "{said}");

    // erin signs in on replica B and enters it there.
    let login = http.get(format!("{}/login", b.base)).send().await.unwrap();
    let csrf = cookie(&login, "sb_csrf");
    let signed_in = http
        .post(format!("{}/login", b.base))
        .header("cookie", format!("sb_csrf={csrf}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", csrf.as_str()), ("user", "erin"), ("password", "a long enough passphrase")]))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303, "{}", signed_in.text().await.unwrap());
    let session = cookie(&signed_in, "sb_session");
    let jar = format!("sb_csrf={csrf}; sb_session={session}");
    let enter = |base: &str| {
        http.post(format!("{base}/link"))
            .header("cookie", &jar)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", csrf.as_str()), ("code", code.as_str())]))
            .send()
    };
    let linked = enter(&b.base).await.unwrap();
    let status = linked.status();
    let html = linked.text().await.unwrap();
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(r#"id="link-done""#) && html.contains("U0PROC1"), "{html}");

    // Used once, on any replica.
    let again = enter(&a.base).await.unwrap();
    assert_eq!(again.status(), 400, "a code works once, whichever replica is asked");
}

/// An approval asked with `switchboard op` (a third process) while two
/// `serve` replicas run on the store reaches Slack, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_asked_from_the_cli_reaches_slack_once_with_two_replicas() {
    switchboard_agents::install_tls_provider();
    let slack = switchboard_testkit::chat::slack().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = run(&["demo", "--seed-only", "--data-dir", data.to_str().unwrap(), "--projects", "12"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let config = |name: &str, port: u16| {
        let path = dir.path().join(format!("{name}.toml"));
        std::fs::write(
            &path,
            format!(
                "[server]\nbind = \"127.0.0.1\"\nport = {port}\n\n[store]\ndata_dir = {data:?}\n\n[slack]\nsigning_secret = {SLACK_SECRET:?}\nbot_token = \"xoxb-processes\"\napi_url = \"{}/api/\"\napprovals_channel = \"C0APPROVALS\"\n",
                slack.url
            ),
        )
        .unwrap();
        path
    };
    let (port_a, port_b) = (free_port(), free_port());
    let (config_a, config_b) = (config("a", port_a), config("b", port_b));
    let (_a, _) = start(&["serve", "--config", config_a.to_str().unwrap()], port_a);
    let (_b, _) = start(&["serve", "--config", config_b.to_str().unwrap()], port_b);

    let asked = run(&[
        "op",
        "deploy",
        "--json",
        r#"{"project": "orders", "environment": "staging", "version": "9.9.9"}"#,
        "--config",
        config_a.to_str().unwrap(),
    ]);
    assert!(asked.status.success(), "{}", text(&asked.stderr));
    let posted = slack.wait_for("chat.postMessage", 1, 30).await;
    assert!(!posted.is_empty(), "the approval never reached Slack: {:?}", slack.calls());
    // Both replicas read the log several times more: still one message.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let approvals: Vec<_> = slack
        .calls()
        .into_iter()
        .filter(|c| c.path.contains("chat.postMessage") && c.body["channel"] == "C0APPROVALS")
        .collect();
    assert_eq!(approvals.len(), 1, "{approvals:?}");
    assert!(approvals[0].body.to_string().contains("9.9.9"), "{}", approvals[0].body);
}
