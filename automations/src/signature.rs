//! Signature checks over the raw body, before anything is parsed, compared
//! in constant time (the MAC's own `verify_slice`).

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

/// Whether `signature_hex` is the HMAC-SHA256 of `body` under `secret`.
pub fn matches(secret: &[u8], body: &[u8], signature_hex: &str) -> bool {
    let Some(expected) = unhex(signature_hex) else { return false };
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// GitHub: `X-Hub-Signature-256: sha256=<hex>`.
pub fn verify_github(secret: &str, header: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    const NAME: &str = "X-Hub-Signature-256";
    let header = header.ok_or_else(|| SignatureError::Missing(NAME.into()))?;
    let hex =
        header.trim().strip_prefix("sha256=").ok_or_else(|| SignatureError::Malformed(NAME.into(), "sha256=<hex>"))?;
    if matches(secret.as_bytes(), body, hex) { Ok(()) } else { Err(SignatureError::Mismatch) }
}

/// PagerDuty v3: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`; any one
/// signature under any one of our secrets will do (rotation on either side).
pub fn verify_pagerduty(secrets: &[String], header: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    const NAME: &str = "X-PagerDuty-Signature";
    let header = header.filter(|h| !h.trim().is_empty()).ok_or_else(|| SignatureError::Missing(NAME.into()))?;
    let signatures: Vec<&str> = header.split(',').filter_map(|s| s.trim().strip_prefix("v1=")).collect();
    if signatures.is_empty() {
        return Err(SignatureError::Malformed(NAME.into(), "v1=<hex>[,v1=<hex>…]"));
    }
    let ok = secrets.iter().any(|secret| signatures.iter().any(|sig| matches(secret.as_bytes(), body, sig)));
    if ok { Ok(()) } else { Err(SignatureError::Mismatch) }
}

/// A generic sender: `<prefix><hex>` in a configured header.
pub fn verify_generic(
    secret: &str,
    header_name: &str,
    prefix: &str,
    header: Option<&str>,
    body: &[u8],
) -> Result<(), SignatureError> {
    let header = header.ok_or_else(|| SignatureError::Missing(header_name.into()))?;
    let hex = header
        .trim()
        .strip_prefix(prefix)
        .ok_or_else(|| SignatureError::Malformed(header_name.into(), "<prefix><hex>"))?;
    if matches(secret.as_bytes(), body, hex) { Ok(()) } else { Err(SignatureError::Mismatch) }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

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
        assert_eq!(verify_github(secret, Some("sha256=zz"), body), Err(SignatureError::Mismatch));
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
    }
}
