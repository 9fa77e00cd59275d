//! Property tests of what Slack and Discord send and what the bot sends
//! back: Slack's signature over any body and timestamp, Discord's `/sb`
//! payloads of any shape, and replies rendered as Block Kit and embeds
//! whatever text they carry (escaped, within the platforms' limits).

use proptest::prelude::*;
use serde_json::{Value, json};
use switchboard_bot::discord::commands::{Said, text_of};
use switchboard_bot::slack::blocks::{blocks_json, escape};
use switchboard_bot::slack::verify::{SlackSignatureError, WINDOW_SECS, sign, verify};
use switchboard_bot::{Button, ButtonStyle, Reply};

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        ".{0,30}".prop_map(Value::from),
        prop::sample::select(vec!["sb", "ask", "deploy", "project", "link", "help", "text", "name"])
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 30, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("name|options|value|type|[a-z]{1,5}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn reply() -> impl Strategy<Value = Reply> {
    (
        ".{0,4000}",
        prop::collection::vec((".{0,40}", ".{0,80}"), 0..12),
        prop::collection::vec(prop::collection::vec(".{0,30}", 3), 0..20),
        prop::collection::vec(("[ -~]{1,30}", "[a-z_]{1,20}:[a-z0-9-]{1,40}"), 0..6),
    )
        .prop_map(|(text, fields, rows, buttons)| {
            Reply::text(text)
                .fields(fields)
                .table(&["a", "b", "c"], rows)
                .buttons(
                    buttons
                        .into_iter()
                        .map(|(label, action)| Button { label, action, style: ButtonStyle::Default })
                        .collect(),
                )
                .link("Open", "http://127.0.0.1:8080/x")
        })
}

proptest! {
    #[test]
    fn a_slack_signature_holds_for_its_body_within_the_window(
        secret in "[ -~]{1,40}",
        body in prop::collection::vec(any::<u8>(), 0..3000),
        at in 1_500_000_000i64..2_000_000_000,
        skew in -WINDOW_SECS..=WINDOW_SECS,
        late in (WINDOW_SECS + 1)..100_000,
    ) {
        let ts = at.to_string();
        let sig = sign(&secret, &ts, &body);
        prop_assert_eq!(verify(&secret, Some(&ts), Some(&sig), &body, at + skew), Ok(()));
        prop_assert_eq!(verify(&secret, Some(&ts), Some(&sig), &body, at + late), Err(SlackSignatureError::Stale));
        prop_assert_eq!(verify(&secret, Some(&ts), Some(&sig), &body, at - late), Err(SlackSignatureError::Stale));
        let mut other = body.clone();
        other.push(b'!');
        prop_assert_eq!(verify(&secret, Some(&ts), Some(&sig), &other, at), Err(SlackSignatureError::Mismatch));
    }

    #[test]
    fn any_slack_headers_are_read_or_refused(ts in ".{0,30}", sig in ".{0,120}", body in prop::collection::vec(any::<u8>(), 0..200)) {
        prop_assert!(verify("secret", Some(&ts), Some(&sig), &body, 1_700_000_000).is_err());
    }

    #[test]
    fn any_discord_command_payload_is_read_or_explained(data in json()) {
        match text_of(&data) {
            Ok(Said::Text(t)) => prop_assert!(!t.trim().is_empty()),
            Ok(Said::Link) => {}
            Err(e) => prop_assert!(!e.is_empty()),
        }
    }

    #[test]
    fn deploy_commands_say_what_was_asked(project in "[a-z][a-z0-9-]{0,30}", env in "[a-z]{2,12}") {
        let data = json!({"name": "sb", "options": [{"name": "deploy", "type": 1, "options": [
            {"name": "project", "type": 3, "value": project}, {"name": "environment", "type": 3, "value": env}]}]});
        prop_assert_eq!(text_of(&data), Ok(Said::Text(format!("deploy {project} to {env}"))));
    }

    #[test]
    fn replies_render_for_slack_and_discord_within_their_limits(r in reply()) {
        let blocks = blocks_json(&r);
        for b in blocks.as_array().into_iter().flatten() {
            if let Some(t) = b["text"]["text"].as_str() {
                prop_assert!(t.chars().count() <= 3000, "a section over Slack's limit");
            }
        }
        let embed = switchboard_bot::discord::embeds::message(&r, true);
        prop_assert!(embed.is_object());
        prop_assert!(!r.to_text().is_empty());
    }

    #[test]
    fn escaped_text_has_no_slack_markup(s in ".{0,200}") {
        let e = escape(&s);
        prop_assert!(!e.contains('<') && !e.contains('>'));
    }
}
