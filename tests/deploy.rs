//! The packaging in `deploy/` against the binary it runs: no container
//! engine or cluster exists here, so every config file is run through
//! `switchboard check-config` with the environment the manifests give it
//! (a variable Switchboard does not read is a failure), and every port,
//! probe path, command, config path, secret key and scrape target the
//! compose file and the Kubernetes manifests name is checked against the
//! config and the routes `serve` answers (tests/operable.rs runs those).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

mod common;

use common::*;

fn deploy(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy").join(path)).unwrap()
}

fn yaml(path: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(&deploy(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `switchboard check-config` on `toml` with `env`: it must pass without a warning.
fn check_config(toml: &str, env: &[(String, String)], what: &str) -> switchboard_core::config::Config {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("switchboard.toml");
    std::fs::write(&file, toml).unwrap();
    let out = std::process::Command::new(BIN)
        .args(["check-config", file.to_str().unwrap()])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    assert!(out.status.success(), "{what}: {}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("warning"), "{what}: {}", text(&out.stderr));
    switchboard_core::config::Config::parse(toml, what, env).unwrap()
}

/// A value of the right shape for `name`, as a real deployment would set it.
fn stand_in(name: &str) -> String {
    match name {
        "SWITCHBOARD_SLACK_BOT_TOKEN" => "xoxb-0-0-stand-in".into(),
        "SWITCHBOARD_GITHUB__APP_ID" => "12345".into(),
        "SWITCHBOARD_GITHUB_PRIVATE_KEY" => std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/automations/tests/fixtures/github/app-test-key.pem"
        ))
        .unwrap(),
        "SWITCHBOARD_SERVER__BASE_URL" => "https://switchboard.example.com".into(),
        _ => "stand-in-secret".into(),
    }
}

fn port_of(listen: &str) -> u16 {
    listen.rsplit_once(':').unwrap().1.parse().unwrap()
}

#[test]
fn the_compose_file_runs_what_the_binary_understands() {
    let compose = &yaml("compose.yaml")[0];
    let toml = deploy("switchboard.toml");
    let sb = &compose["services"]["switchboard"];
    // ${VAR:?…} and ${VAR:-…} are filled by compose; any value stands in here.
    let env: Vec<(String, String)> = sb["environment"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), if v.as_str().unwrap().starts_with("${") { stand_in(k) } else { v.to_string() }))
        .collect();
    let config = check_config(&toml, &env, "compose switchboard");
    let command: Vec<&str> = sb["command"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(command, ["serve", "--config", "/etc/switchboard/switchboard.toml"]);
    let mounts: Vec<&str> = sb["volumes"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(mounts.contains(&"./switchboard.toml:/etc/switchboard/switchboard.toml:ro"), "{mounts:?}");
    assert!(mounts.iter().any(|m| m.ends_with(&format!(":{}", config.store.data_dir.display()))), "{mounts:?}");
    assert_eq!(sb["ports"][0], format!("{0}:{0}", config.server.port));
    let probe = sb["healthcheck"]["test"].to_string();
    assert!(probe.contains(&format!("http://127.0.0.1:{}/livez", config.server.port)), "{probe}");
    let worker = &compose["services"]["worker"];
    assert_eq!(worker["command"][0], "worker");
    let probe = worker["healthcheck"]["test"].to_string();
    let metrics_port = port_of(config.metrics.listen.as_deref().unwrap());
    assert!(
        probe.contains(&format!("http://127.0.0.1:{metrics_port}/livez")),
        "a worker is probed on its metrics listener: {probe}"
    );
    let worker_env: Vec<(String, String)> =
        worker["environment"].as_object().unwrap().keys().map(|k| (k.clone(), stand_in(k))).collect();
    check_config(&toml, &worker_env, "compose worker");
    // Prometheus scrapes the metrics listener the config opens, and loads the alert rules.
    let scrape = &yaml("prometheus/prometheus.yml")[0];
    let target = scrape["scrape_configs"][0]["static_configs"][0]["targets"][0].as_str().unwrap();
    assert_eq!(target, format!("switchboard:{}", port_of(config.metrics.listen.as_deref().unwrap())));
    let rules = scrape["rule_files"][0].as_str().unwrap();
    let prometheus_mounts = compose["services"]["prometheus"]["volumes"].to_string();
    assert!(prometheus_mounts.contains(&format!("./prometheus/alerts.yml:{rules}:ro")), "{prometheus_mounts}");
    // Graph and log on the servers compose starts.
    assert!(config.store.neo4j.uri.contains("neo4j:7687") && config.store.clickhouse.url.contains("clickhouse:8123"));
    assert!(compose["services"]["neo4j"].is_object() && compose["services"]["clickhouse"].is_object());
}

#[test]
fn the_kubernetes_manifests_run_what_the_binary_understands() {
    let configmap = &yaml("kubernetes/configmap.yaml")[0];
    let toml = configmap["data"]["switchboard.toml"].as_str().unwrap();
    assert_eq!(toml, deploy("switchboard.toml"), "configmap.yaml holds deploy/switchboard.toml as is");
    let secret = &yaml("kubernetes/secret.example.yaml")[0];
    let secret_keys: BTreeSet<&str> = secret["stringData"].as_object().unwrap().keys().map(String::as_str).collect();
    let embedded = yaml("kubernetes/embedded.yaml");
    let mut configs = vec![("switchboard-config".to_owned(), toml.to_owned())];
    configs.push((
        embedded[0]["metadata"]["name"].as_str().unwrap().to_owned(),
        embedded[0]["data"]["switchboard.toml"].as_str().unwrap().to_owned(),
    ));
    let mut docs = Vec::new();
    for file in
        ["kubernetes/serve.yaml", "kubernetes/worker.yaml", "kubernetes/embedded.yaml", "kubernetes/ingress.yaml"]
    {
        docs.extend(yaml(file));
    }
    let mut workloads = 0;
    let mut pod_ports: Vec<(String, BTreeSet<String>)> = Vec::new();
    for doc in docs.iter().filter(|d| d["kind"] == "Deployment" || d["kind"] == "StatefulSet") {
        workloads += 1;
        let name = doc["metadata"]["name"].as_str().unwrap();
        let pod = &doc["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        let args: Vec<&str> = container["args"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert!(["serve", "worker"].contains(&args[0]), "{name}: {args:?}");
        assert_eq!(args[1..], ["--config", "/etc/switchboard/switchboard.toml"], "{name}");
        let config_volume = pod["volumes"].as_array().unwrap().iter().find(|v| v["name"] == "config").unwrap();
        let map = config_volume["configMap"]["name"].as_str().unwrap();
        let toml = &configs.iter().find(|(n, _)| n == map).unwrap_or_else(|| panic!("{name}: no ConfigMap {map}")).1;
        let mount = container["volumeMounts"].as_array().unwrap().iter().find(|m| m["name"] == "config").unwrap();
        assert_eq!(mount["mountPath"], "/etc/switchboard", "{name}");
        let env = container["env"].as_array().unwrap();
        let vars: Vec<(String, String)> = env
            .iter()
            .map(|e| {
                let name = e["name"].as_str().unwrap();
                (name.to_owned(), stand_in(name))
            })
            .collect();
        let config = check_config(toml, &vars, name);
        for e in env {
            let key = e["valueFrom"]["secretKeyRef"]["key"].as_str().unwrap();
            assert!(secret_keys.contains(key), "{name}: secret key {key} is not in secret.example.yaml");
        }
        let data = container["volumeMounts"].as_array().unwrap().iter().find(|m| m["name"] == "data").unwrap();
        assert_eq!(data["mountPath"].as_str().unwrap(), config.store.data_dir.to_str().unwrap(), "{name}");
        let ports: BTreeSet<String> = container["ports"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| {
                        let n = p["containerPort"].as_u64().unwrap() as u16;
                        match p["name"].as_str().unwrap() {
                            "http" => assert_eq!(n, config.server.port, "{name}: http"),
                            "metrics" => assert_eq!(n, port_of(config.metrics.listen.as_deref().unwrap()), "{name}"),
                            other => panic!("{name}: port {other}"),
                        }
                        p["name"].as_str().unwrap().to_owned()
                    })
                    .collect()
            })
            .unwrap_or_default();
        // serve answers the probes on its main port, a worker on its metrics listener.
        let probed = if args[0] == "serve" { "http" } else { "metrics" };
        for (probe, path) in [("livenessProbe", "/livez"), ("readinessProbe", "/readyz")] {
            assert_eq!(container[probe]["httpGet"]["path"], path, "{name}: {probe}");
            assert_eq!(container[probe]["httpGet"]["port"], probed, "{name}: {probe}");
            assert!(ports.contains(probed), "{name}: {probe} on an undeclared port");
        }
        let labels = doc["spec"]["template"]["metadata"]["labels"].to_string();
        pod_ports.push((labels, ports));
        // More than one replica only where nothing is kept in the pod.
        if doc["spec"]["replicas"].as_u64().unwrap() > 1 {
            assert_eq!(config.store.graph, switchboard_core::config::GraphBackend::Neo4j, "{name}");
            assert_eq!(config.store.log, switchboard_core::config::LogBackend::Clickhouse, "{name}");
        }
    }
    assert_eq!(workloads, 3);
    // Services send to ports the pods they select have.
    for svc in docs.iter().filter(|d| d["kind"] == "Service") {
        let selector = svc["spec"]["selector"].as_object().unwrap();
        let (_, ports) = pod_ports
            .iter()
            .find(|(labels, _)| selector.iter().all(|(k, v)| labels.contains(&format!("\"{k}\":{v}"))))
            .unwrap_or_else(|| panic!("service {} selects no pod", svc["metadata"]["name"]));
        for p in svc["spec"]["ports"].as_array().unwrap() {
            assert!(ports.contains(p["targetPort"].as_str().unwrap()), "{svc}");
        }
    }
    let ingress = docs.iter().find(|d| d["kind"] == "Ingress").unwrap();
    let backend = &ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"];
    let svc = docs.iter().find(|d| d["kind"] == "Service" && d["metadata"]["name"] == backend["name"]).unwrap();
    assert!(svc["spec"]["ports"].as_array().unwrap().iter().any(|p| p["name"] == backend["port"]["name"]));
    let pdb = docs.iter().find(|d| d["kind"] == "PodDisruptionBudget").unwrap();
    assert_eq!(pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"], "serve");
}

#[cfg(feature = "server-tests")]
#[test]
fn prometheus_accepts_the_compose_scrape_config_with_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("switchboard-alerts.yml");
    std::fs::write(&rules, deploy("prometheus/alerts.yml")).unwrap();
    let config = dir.path().join("prometheus.yml");
    let text_of =
        deploy("prometheus/prometheus.yml").replace("/etc/prometheus/switchboard-alerts.yml", rules.to_str().unwrap());
    std::fs::write(&config, text_of).unwrap();
    let out =
        std::process::Command::new("promtool").args(["check", "config", config.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
}
