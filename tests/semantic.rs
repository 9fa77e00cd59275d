//! Semantic search end to end: the demo with an embeddings endpoint (the
//! test kit's OpenAI-compatible fake) embeds the organisation, `find_projects`
//! over REST ranks projects by meaning beside words, a change made by another
//! process is embedded again, a failing endpoint leaves words-only search
//! that says so, and the chat offers the projects nearest in meaning when
//! no name matched. The same client against a real llama.cpp server is in
//! tests/llama.rs.

use std::time::{Duration, Instant};

use serde_json::Value;
use switchboard_testkit::embeddings::FakeEmbeddings;

mod common;
use common::*;

async fn search(base: &str, q: &str) -> Value {
    let url = format!("{base}/api/v1/projects?q={}", q.replace(' ', "%20"));
    let resp = reqwest::get(&url).await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    resp.json().await.unwrap()
}

fn slugs(list: &Value) -> Vec<String> {
    list["projects"].as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap().to_owned()).collect()
}

fn by_meaning(list: &Value) -> Vec<String> {
    list["by_meaning"].as_array().map_or(Vec::new(), |a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
}

/// Searches until `ok` holds (the index is made in the background), or fails saying what was last seen.
async fn until(base: &str, q: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list = search(base, q).await;
        if ok(&list) {
            return list;
        }
        assert!(Instant::now() < deadline, "search for {q:?} never got there: {list}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_are_found_by_meaning_kept_current_and_offered_in_chat() {
    switchboard_agents::install_tls_provider();
    let fake = FakeEmbeddings::start().await.unwrap();
    // The client averages llama.cpp-style vectors per token into one.
    fake.per_token(true);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let env = [
        ("SWITCHBOARD_EMBEDDINGS__BASE_URL", fake.url.as_str()),
        ("SWITCHBOARD_EMBEDDINGS__MODEL", "fake-embed"),
        ("SWITCHBOARD_EMBEDDINGS__REFRESH_SECS", "1"),
        ("SWITCHBOARD_EMBEDDINGS__MIN_SIMILARITY", "0.2"),
    ];
    let port = free_port();
    let (server, _) = start_with(&["demo", "--port", &port.to_string(), "--data-dir", data], port, &env);
    let base = server.base.clone();

    // No project says "reimburse": the words match nothing, the meaning finds refunds first.
    let list = until(&base, "reimburse a customer", |l| by_meaning(l).contains(&"refunds".into())).await;
    assert_eq!(slugs(&list)[0], "refunds", "{list}");
    assert!(list.get("note").is_none(), "{list}");
    // The portal's projects page marks what was found by meaning.
    let page = reqwest::get(format!("{base}/projects?q=reimburse%20a%20customer")).await.unwrap().text().await.unwrap();
    assert!(page.contains("refunds · <span title=") && page.contains(">by meaning</span>"), "{page}");
    // A project named in the question stays first: words weigh more than meaning.
    let list = search(&base, "fraud").await;
    assert_eq!(slugs(&list)[0], "fraud-scorer", "{list}");
    assert!(!by_meaning(&list).contains(&"fraud-scorer".into()), "a word match is not listed as by meaning: {list}");
    // Filters still hold for what meaning adds.
    let list = search(&base, "reimburse%20a%20customer&team=growth").await;
    assert!(!slugs(&list).contains(&"refunds".into()), "refunds is not growth's: {list}");
    let embedded = fake.texts();
    assert!(embedded >= 60, "every demo project, team and package was embedded: {embedded}");

    // Another process changes a project: the server embeds it again.
    let out = run(&[
        "op",
        "update_project",
        "--data-dir",
        data,
        "--json",
        r#"{"project": "cart", "description": "Works out the VAT on every basket."}"#,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list = until(&base, "taxes", |l| by_meaning(l).contains(&"cart".into())).await;
    assert!(slugs(&list).contains(&"tax-calculator".into()), "the project about tax is found too: {list}");

    // The endpoint fails: words only, and the answer says so.
    fake.failing(true);
    let list = search(&base, "reimburse a customer").await;
    assert!(by_meaning(&list).is_empty(), "{list}");
    let note = list["note"].as_str().unwrap_or_default();
    assert!(note.starts_with("Matched words only") && note.contains(&fake.url), "names the endpoint: {list}");
    let page = reqwest::get(format!("{base}/projects?q=reimburse")).await.unwrap().text().await.unwrap();
    assert!(page.contains("Matched words only"), "the page says so too: {page}");
    fake.failing(false);
    drop(server);

    // The chat, with no name it knows, offers the nearest projects as buttons.
    let mut child = std::process::Command::new(BIN)
        .args(["chat", "--data-dir", data, "--as", "carol"])
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"who deals with chargebacks\nexit\n").unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    let said = text(&out.stdout);
    assert!(said.contains("By what they do, these projects come closest to what you said"), "{said}");
    assert!(
        said.contains("who deals with chargebacks (refunds)"),
        "the button says the message again about refunds: {said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_endpoint_search_matches_words_as_before() {
    let dir = seeded();
    let out = run(&[
        "op",
        "find_projects",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--json",
        r#"{"query": "reimburse a customer"}"#,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, serde_json::json!({"projects": []}));
    let said = text(&chat(dir.path().to_str().unwrap(), "carol", "who deals with chargebacks\nexit\n").stdout);
    assert!(!said.contains("come closest"), "{said}");
}

/// The same on the Bolt graph (ArcadeDB, which scripts/test starts): `serve`
/// embeds the migrated organisation into `Vector` nodes, and another process
/// (the CLI) searches them by meaning.
#[cfg(feature = "server-tests")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_bolt_graph_vectors_live_in_the_graph() {
    let fake = FakeEmbeddings::start().await.unwrap();
    let seed = seeded();
    let dir = tempfile::tempdir().unwrap();
    let graph = graph_settings(&format!("sb_semantic_{}", std::process::id()));
    let config = |name: &str, port: u16| {
        let path = dir.path().join(format!("{name}.toml"));
        let data = dir.path().join(name);
        let body = format!(
            "[server]\nbind = \"127.0.0.1\"\nport = {port}\n\n[store]\ndata_dir = {:?}\ngraph = \"neo4j\"\n\n[embeddings]\nbase_url = {:?}\nmodel = \"fake-embed\"\nmin_similarity = 0.2\n\n{graph}",
            data.to_str().unwrap(),
            fake.url
        );
        std::fs::write(&path, body).unwrap();
        path
    };
    let migrator = config("migrator", 0);
    let from = format!("sqlite:{}", seed.path().to_str().unwrap());
    let out = run(&["migrate", "--from", &from, "--to", "neo4j", "--config", migrator.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let port = free_port();
    let server_config = config("server", port);
    let (server, _) = start(&["serve", "--config", server_config.to_str().unwrap()], port);
    let reader = config("reader", 0);
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let out = run(&[
            "op",
            "find_projects",
            "--config",
            reader.to_str().unwrap(),
            "--json",
            r#"{"query": "reimburse a customer"}"#,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let list: Value = serde_json::from_slice(&out.stdout).unwrap();
        if by_meaning(&list).contains(&"refunds".into()) {
            assert_eq!(slugs(&list)[0], "refunds", "{list}");
            break;
        }
        assert!(Instant::now() < deadline, "the graph's vectors never found refunds: {list}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop(server);
}
