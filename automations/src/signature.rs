//! Signature checks over the raw body, before anything is parsed. A header
//! is first checked for shape (`parse_*`, no hashing: a malformed or
//! oversized one is refused for free), then the body's MAC is computed once
//! per secret and compared in constant time with what was sent.

use hmac::{KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = hmac::Hmac<Sha256>;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the {0} header is missing")]
    Missing(String),
    #[error("the {0} header is not in the expected format ({1})")]
    Malformed(String, &'static str),
    #[error("the signature does not match the body (check the shared secret)")]
    Mismatch,
}

/// Lowercase hex HMAC-SHA256 of `body` under `secret`.
pub fn hmac_hex(secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    hex(&mac.finalize().into_bytes())
}

/// HMAC-SHA256 of `body` under `secret`.
fn hmac(secret: &[u8], body: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// Whether two MACs are equal, in time that does not depend on where they differ.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `signature_hex` is the HMAC-SHA256 of `body` under `secret`.
pub fn matches(secret: &[u8], body: &[u8], signature_hex: &str) -> bool {
    parse_mac(signature_hex).is_some_and(|given| same(&hmac(secret, body), &given))
}

/// A 64-digit hex MAC, or `None`. Cheap: no hashing.
fn parse_mac(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim().as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        let digit = |c: u8| (c as char).to_digit(16);
        *b = u8::try_from(digit(hex[2 * i])? * 16 + digit(hex[2 * i + 1])?).ok()?;
    }
    Some(out)
}

/// Most signatures one PagerDuty header may carry (it sends one per secret
/// being rotated; a handful at most). More is refused before any hashing.
pub const MAX_PAGERDUTY_SIGNATURES: usize = 8;
/// Longest signature header read; longer ones are refused unread.
pub const MAX_SIGNATURE_HEADER: usize = 2048;

/// A signature header, checked for shape (no hashing yet): what the body's
/// MAC must equal, one of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected(Vec<[u8; 32]>);

impl Expected {
    /// Whether the body's MAC under any of `secrets` is one of the expected
    /// ones: one MAC per secret, however many signatures were sent.
    pub fn verify<S: AsRef<[u8]>>(&self, secrets: &[S], body: &[u8]) -> Result<(), SignatureError> {
        let ok = secrets.iter().any(|secret| {
            let mac = hmac(secret.as_ref(), body);
            // Every candidate is compared, so timing says nothing about which matched.
            self.0.iter().fold(false, |found, given| same(&mac, given) | found)
        });
        if ok { Ok(()) } else { Err(SignatureError::Mismatch) }
    }
}

fn header_value<'h>(name: &str, header: Option<&'h str>) -> Result<&'h str, SignatureError> {
    let header = header.filter(|h| !h.trim().is_empty()).ok_or_else(|| SignatureError::Missing(name.into()))?;
    if header.len() > MAX_SIGNATURE_HEADER {
        return Err(SignatureError::Malformed(name.into(), "at most 2048 characters"));
    }
    Ok(header.trim())
}

/// GitHub's `X-Hub-Signature-256: sha256=<hex>`, checked for shape.
pub fn parse_github(header: Option<&str>) -> Result<Expected, SignatureError> {
    const NAME: &str = "X-Hub-Signature-256";
    let header = header_value(NAME, header)?;
    let mac = header.strip_prefix("sha256=").and_then(parse_mac);
    mac.map(|m| Expected(vec![m])).ok_or_else(|| SignatureError::Malformed(NAME.into(), "sha256=<64 hex digits>"))
}

/// GitHub: `X-Hub-Signature-256: sha256=<hex>`.
pub fn verify_github(secret: &str, header: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    parse_github(header)?.verify(&[secret], body)
}

/// PagerDuty v3's `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`, checked for
/// shape: at most [`MAX_PAGERDUTY_SIGNATURES`] entries, each `v1=` and 64 hex
/// digits (entries of other versions are skipped).
pub fn parse_pagerduty(header: Option<&str>) -> Result<Expected, SignatureError> {
    const NAME: &str = "X-PagerDuty-Signature";
    const SHAPE: &str = "v1=<64 hex digits>[,v1=<64 hex digits>…], at most 8";
    let header = header_value(NAME, header)?;
    let mut macs = Vec::new();
    for (i, entry) in header.split(',').enumerate() {
        if i >= MAX_PAGERDUTY_SIGNATURES {
            return Err(SignatureError::Malformed(NAME.into(), SHAPE));
        }
        let entry = entry.trim();
        match entry.strip_prefix("v1=") {
            Some(hex) => macs.push(parse_mac(hex).ok_or_else(|| SignatureError::Malformed(NAME.into(), SHAPE))?),
            // A future version's entry: not ours to check.
            None if entry.split_once('=').is_some_and(|(v, _)| v.starts_with('v')) => {}
            None => return Err(SignatureError::Malformed(NAME.into(), SHAPE)),
        }
    }
    if macs.is_empty() {
        return Err(SignatureError::Malformed(NAME.into(), SHAPE));
    }
    Ok(Expected(macs))
}

/// PagerDuty v3: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`; any one
/// signature under any one of our secrets will do (rotation on either side).
pub fn verify_pagerduty(secrets: &[String], header: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    parse_pagerduty(header)?.verify(secrets, body)
}

/// A generic sender's `<prefix><hex>` in a configured header, checked for shape.
pub fn parse_generic(header_name: &str, prefix: &str, header: Option<&str>) -> Result<Expected, SignatureError> {
    let header = header_value(header_name, header)?;
    let mac = header.strip_prefix(prefix).and_then(parse_mac);
    mac.map(|m| Expected(vec![m]))
        .ok_or_else(|| SignatureError::Malformed(header_name.into(), "<prefix><64 hex digits>"))
}

/// A generic sender: `<prefix><hex>` in a configured header.
pub fn verify_generic(
    secret: &str,
    header_name: &str,
    prefix: &str,
    header: Option<&str>,
    body: &[u8],
) -> Result<(), SignatureError> {
    parse_generic(header_name, prefix, header)?.verify(&[secret], body)
}

pub use switchboard_core::ids::hex;

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's published vector (SIGNATURES.md §1).
    #[test]
    fn github_published_vector() {
        let secret = "It's a Secret to Everybody";
        let body = b"Hello, World!";
        assert_eq!(
            hmac_hex(secret.as_bytes(), body),
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(verify_github(secret, Some(header), body), Ok(()));
        assert_eq!(verify_github(secret, Some(header), b"Hello, World"), Err(SignatureError::Mismatch));
        assert_eq!(verify_github("another secret", Some(header), body), Err(SignatureError::Mismatch));
        assert_eq!(verify_github(secret, None, body), Err(SignatureError::Missing("X-Hub-Signature-256".into())));
        assert!(matches!(verify_github(secret, Some("sha1=abc"), body), Err(SignatureError::Malformed(..))));
        assert!(matches!(verify_github(secret, Some("sha256=zz"), body), Err(SignatureError::Malformed(..))));
    }

    /// PagerDuty's published vector from its Go client (SIGNATURES.md §3).
    #[test]
    fn pagerduty_published_vector() {
        let secret = vec!["lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK".to_owned()];
        let body = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/pagerduty/signature-vector.go-pagerduty.body.json"
        ))
        .expect("the fixture is in the repository");
        assert_eq!(body.len(), 1655);
        let valid = "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd";
        let mismatch = "v1=7020c8a7ec668a9b7012bc3dd82e483394b038f4230acc6785efbf2a7d8bcaf5";
        assert_eq!(verify_pagerduty(&secret, Some(valid), &body), Ok(()));
        assert_eq!(verify_pagerduty(&secret, Some(mismatch), &body), Err(SignatureError::Mismatch));
        assert_eq!(
            verify_pagerduty(&secret, Some(""), &body),
            Err(SignatureError::Missing("X-PagerDuty-Signature".into()))
        );
        // Rotation: several signatures, one valid; several secrets, one right.
        assert_eq!(verify_pagerduty(&secret, Some(&format!("{mismatch},{valid}")), &body), Ok(()));
        let two = vec!["old".to_owned(), secret[0].clone()];
        assert_eq!(verify_pagerduty(&two, Some(valid), &body), Ok(()));
        assert!(matches!(verify_pagerduty(&secret, Some("v0=abc"), &body), Err(SignatureError::Malformed(..))));
        // A later version's entry beside ours is skipped, not refused.
        assert_eq!(verify_pagerduty(&secret, Some(&format!("v2=abc,{valid}")), &body), Ok(()));
    }

    /// The header that froze the server: tens of thousands of entries. It is
    /// refused on its shape, before one MAC is computed, valid entry or not.
    #[test]
    fn pagerduty_headers_with_many_entries_are_refused_unhashed() {
        let valid = format!("v1={}", hmac_hex(b"s", b"{}"));
        let flood = format!("{},{valid}", vec!["v1="; 30_000].join(","));
        assert!(matches!(parse_pagerduty(Some(&flood)), Err(SignatureError::Malformed(..))));
        let nine = [valid.as_str(); MAX_PAGERDUTY_SIGNATURES + 1].join(",");
        assert_eq!(nine.len(), 9 * 67 + 8);
        assert!(matches!(parse_pagerduty(Some(&nine)), Err(SignatureError::Malformed(..))));
        let eight = [valid.as_str(); MAX_PAGERDUTY_SIGNATURES].join(",");
        assert_eq!(parse_pagerduty(Some(&eight)).unwrap().verify(&["s"], b"{}"), Ok(()));
        // Empty entries, short MACs and non-hex digits are shapes, not guesses.
        for bad in ["v1=", "v1=,v1=", &valid[..66], &format!("v1={}", "g".repeat(64)), "garbage"] {
            assert!(matches!(parse_pagerduty(Some(bad)), Err(SignatureError::Malformed(..))), "{bad}");
        }
        let long = format!("{valid}{}", " ".repeat(MAX_SIGNATURE_HEADER));
        assert!(matches!(parse_pagerduty(Some(&long)), Err(SignatureError::Malformed(..))));
    }
}
