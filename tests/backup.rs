//! `switchboard backup` while `serve` runs and takes writes, then `restore`:
//! into an empty directory, refused over a store with data unless forced
//! (the replaced one kept aside), and refused for a file that is no store.

mod common;

use common::*;

const SECRET: &str = "backup-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_writes_restores_and_serves() {
    switchboard_agents::install_tls_provider();
    let dir = seeded();
    let data = dir.path().to_str().unwrap().to_owned();
    let port = free_port();
    let config = dir.path().join("switchboard.toml");
    std::fs::write(
        &config,
        format!("[server]\nport = {port}\nrequire_login = false\n\n[store]\ndata_dir = {data:?}\n\n[webhooks]\ngithub_secret = {SECRET:?}\n"),
    )
    .unwrap();
    let (server, _) = start(&["serve", "--config", config.to_str().unwrap()], port);

    // Signed webhooks keep the store writing while the backup is taken.
    let body =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/automations/tests/fixtures/github/push.json")).unwrap();
    let signature = format!("sha256={}", switchboard_automations::signature::hmac_hex(SECRET.as_bytes(), &body));
    let hooks = format!("{}/hooks/github", server.base);
    let writer = tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut accepted = 0;
        for n in 0..200 {
            let resp = client
                .post(&hooks)
                .header("content-type", "application/json")
                .header("x-github-event", "push")
                .header("x-github-delivery", format!("backup-{n}"))
                .header("x-hub-signature-256", &signature)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            accepted += usize::from(resp.status() == 202);
        }
        accepted
    });
    let copies = tempfile::tempdir().unwrap();
    let file = copies.path().join("switchboard.backup");
    let out = run(&["backup", "--data-dir", &data, "--out", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("(checked)") && said.contains("projects"), "{said}");
    assert_eq!(writer.await.unwrap(), 200, "serving went on during the backup");
    let again = run(&["backup", "--data-dir", &data, "--out", file.to_str().unwrap()]);
    assert!(!again.status.success() && text(&again.stderr).contains("never overwrites"), "{}", text(&again.stderr));
    drop(server);

    // Into an empty directory: it serves what was backed up.
    let fresh = copies.path().join("restored");
    let out = run(&["restore", "--data-dir", fresh.to_str().unwrap(), "--in", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let port = free_port();
    let (server, _) = start(&["demo", "--port", &port.to_string(), "--data-dir", fresh.to_str().unwrap()], port);
    let project: serde_json::Value =
        reqwest::get(format!("{}/api/v1/projects/orders", server.base)).await.unwrap().json().await.unwrap();
    assert_eq!(project["project"]["slug"], "orders", "{project}");
    drop(server);

    // Over a store with data: refused, nothing changed; forced, the old one is kept aside.
    let out = run(&["restore", "--data-dir", &data, "--in", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("is not empty") && text(&out.stderr).contains("--force"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["restore", "--data-dir", &data, "--in", file.to_str().unwrap(), "--force"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("replaced-by-restore-"), "{}", text(&out.stdout));
    let aside = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("replaced-by-restore-"))
        .expect("the replaced store is kept");
    assert!(aside.path().join(switchboard_store::DB_FILE).exists());

    // A file that is no store is refused and changes nothing.
    let junk = copies.path().join("junk");
    std::fs::write(&junk, "not a database").unwrap();
    let before = std::fs::read(dir.path().join(switchboard_store::DB_FILE)).unwrap();
    let out = run(&["restore", "--data-dir", &data, "--in", junk.to_str().unwrap(), "--force"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("not a Switchboard store"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(dir.path().join(switchboard_store::DB_FILE)).unwrap(), before);
}
