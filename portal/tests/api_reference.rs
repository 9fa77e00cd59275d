//! `/api`: the API reference, rendered on the server from the OpenAPI
//! document, linked from every page's footer.

mod common;

use common::*;
use switchboard_core::ops::OpKind;

#[tokio::test]
async fn the_api_reference_lists_every_operation_with_its_fields() {
    let p = portal().await;
    let (_, home) = p.page("/").await;
    assert!(home.contains(r#"<a href="/api">API reference</a>"#), "the footer links it");
    let (status, html) = p.page("/api").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>API reference</h1>") && html.contains(r#"href="/api/v1/openapi.json""#), "{html}");
    for k in OpKind::ALL {
        let name = k.spec().name;
        assert!(html.contains(&format!(r#"id="op-{name}""#)), "{name} is missing");
        assert!(html.contains(&format!(r##"href="#op-{name}""##)), "{name} is not in the contents");
    }
    // A deploy's body: its fields, which are required, what they mean, an example.
    let deploy = &html[html.find(r#"id="op-deploy""#).unwrap()..];
    let deploy = &deploy[..deploy.find("</section>").unwrap()];
    assert!(deploy.contains(r#"<td class="mono">environment</td><td>string</td><td>yes</td>"#), "{deploy}");
    assert!(deploy.contains(r#"<td class="mono">version</td>"#) && deploy.contains("<h3>Example</h3>"), "{deploy}");
    assert!(deploy.contains("badge s-automation") && deploy.contains("pending run"), "{deploy}");
    assert!(deploy.contains(r#"<span class="mono">409</span>"#), "its answers: {deploy}");
    // The confirmation production asks for is documented where it is sent.
    let approve = &html[html.find(r#"id="op-approve_run""#).unwrap()..];
    let approve = &approve[..approve.find("</section>").unwrap()];
    assert!(
        approve.contains(r#"<td class="mono">confirm</td>"#) && approve.contains("confirm_environments"),
        "{approve}"
    );
    // The resource routes, with their parameters.
    assert!(html.contains(r#"<span class="mono">GET /api/v1/projects/{slug}</span>"#), "{html}");
}
