//! Slack's request signature, v0: `v0=` + hex HMAC-SHA256 of
//! `v0:{timestamp}:{raw body}` with the signing secret (as text), and a
//! timestamp within five minutes of now either way.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub use crate::chat::WINDOW_SECS;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SlackSignatureError {
    #[error("X-Slack-Request-Timestamp and X-Slack-Signature are required")]
    Missing,
    #[error("X-Slack-Request-Timestamp is not a number of seconds")]
    BadTimestamp,
    #[error("the request is more than five minutes old or new; check the clock, or this is a replay")]
    Stale,
    #[error("the signature does not match the body; check slack.signing_secret")]
    Mismatch,
}

/// The header value Slack would send for `body` at `timestamp`.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    format!("v0={}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// Checks a request against the secret at `now` (epoch seconds).
pub fn verify(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SlackSignatureError> {
    let (Some(ts), Some(sig)) = (timestamp, signature) else {
        return Err(SlackSignatureError::Missing);
    };
    let at: i64 = ts.trim().parse().map_err(|_| SlackSignatureError::BadTimestamp)?;
    if now.abs_diff(at) > WINDOW_SECS.unsigned_abs() {
        return Err(SlackSignatureError::Stale);
    }
    let hex = sig.trim().strip_prefix("v0=").ok_or(SlackSignatureError::Mismatch)?;
    let given: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("zz"), 16))
        .collect::<Result<_, _>>()
        .map_err(|_| SlackSignatureError::Mismatch)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(b"v0:");
    mac.update(ts.trim().as_bytes());
    mac.update(b":");
    mac.update(body);
    // Constant-time comparison.
    mac.verify_slice(&given).map_err(|_| SlackSignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slack's published vector (SIGNATURES.md): the slash command body, byte for byte.
    #[test]
    fn slack_published_vector() {
        let body = include_bytes!("../../tests/fixtures/slack/slash_command.txt");
        assert_eq!(body.len(), 362);
        let secret = "8f742231b10e8888abcd99yyyzzz85a5";
        let expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
        assert_eq!(sign(secret, "1531420618", body), expected);
        assert_eq!(verify(secret, Some("1531420618"), Some(expected), body, 1531420618 + 299), Ok(()));
        assert_eq!(
            verify(secret, Some("1531420618"), Some(expected), body, 1531420618 + 301),
            Err(SlackSignatureError::Stale)
        );
        assert_eq!(
            verify(secret, Some("1531420618"), Some(expected), b"other", 1531420618),
            Err(SlackSignatureError::Mismatch)
        );
        assert_eq!(
            verify("other-secret", Some("1531420618"), Some(expected), body, 1531420618),
            Err(SlackSignatureError::Mismatch)
        );
        assert_eq!(verify(secret, None, Some(expected), body, 1531420618), Err(SlackSignatureError::Missing));
        assert_eq!(
            verify(secret, Some("soon"), Some(expected), body, 1531420618),
            Err(SlackSignatureError::BadTimestamp)
        );
    }
}
