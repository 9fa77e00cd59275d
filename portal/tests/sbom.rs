//! `POST /api/v1/projects/{project}/sbom`: the SBOM is the body, under its
//! own size limit (SBOMs of real projects run past the API's 1 MiB), with
//! the same tokens and policy as every API call.

mod common;

use common::*;

fn big_sbom(components: usize) -> String {
    let list: Vec<Value> = (0..components)
        .map(|i| json!({"type": "library", "name": format!("pkg-{i}"), "version": "1.0.0", "purl": format!("pkg:npm/pkg-{i}@1.0.0")}))
        .collect();
    json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": list}).to_string()
}

fn upload(uri: &str, token: &str, body: String) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn an_sbom_larger_than_the_api_limit_is_imported() {
    let p = portal().await;
    let admin = Caller::new("cli", Role::Admin, "cli");
    let editor = p.service.create_token(&admin, &"carol".parse().unwrap(), None, None).await.unwrap().secret;
    let viewer = p.service.create_token(&admin, &"dave".parse().unwrap(), None, None).await.unwrap().secret;
    let body = big_sbom(15_000);
    assert!(body.len() > p.service.config().server.body_limit_bytes, "{} bytes", body.len());

    let (status, answer, _) =
        p.send(Mode::Serve, upload("/api/v1/projects/orders/sbom?name=orders.cdx.json", &editor, body.clone())).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let v: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!((v["imported"].as_u64(), v["components"].as_u64()), (Some(15_000), Some(15_000)));
    let orders = p.service.graph().get_project(&"orders".parse().unwrap()).await.unwrap().unwrap();
    let from_sbom = orders.dependencies.iter().filter(|d| d.source.as_deref() == Some("sbom:orders.cdx.json")).count();
    assert_eq!(from_sbom, 15_000);

    let (status, answer, _) = p.send(Mode::Serve, upload("/api/v1/projects/orders/sbom", &viewer, body.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    let (status, answer, _) =
        p.send(Mode::Serve, upload("/api/v1/projects/orders/sbom", &editor, "<bom></bom>".into())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.contains("the body is not valid JSON"), "{answer}");
    let (status, answer, _) = p.send(Mode::Serve, upload("/api/v1/projects/nope/sbom", &editor, big_sbom(1))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");

    // The rest of the API keeps its own limit.
    let (status, _, _) = p.send(Mode::Serve, upload("/api/v1/ops/get_project", &editor, body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn the_sbom_limit_is_configurable() {
    let mut config = Config::default();
    config.import.sbom_max_bytes = 4096;
    let p = portal_with(config).await;
    let admin = Caller::new("cli", Role::Admin, "cli");
    let editor = p.service.create_token(&admin, &"carol".parse().unwrap(), None, None).await.unwrap().secret;
    let before = p.service.graph().get_project(&"orders".parse().unwrap()).await.unwrap();
    let (status, _, _) = p.send(Mode::Serve, upload("/api/v1/projects/orders/sbom", &editor, big_sbom(100))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(p.service.graph().get_project(&"orders".parse().unwrap()).await.unwrap(), before);
    let (status, answer, _) = p.send(Mode::Serve, upload("/api/v1/projects/orders/sbom", &editor, big_sbom(2))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    // The project page says where each dependency was read and how it is used.
    let (status, html) = p.page("/projects/orders").await;
    assert_eq!(status, StatusCode::OK);
    let row = html.split("<tr>").find(|r| r.contains(">pkg-1<")).expect("the SBOM's package is listed");
    assert!(row.contains(">direct<") && row.contains(">sbom<"), "{row}");
    assert!(html.contains("set by hand"), "the demo's own dependencies have no file");
}
