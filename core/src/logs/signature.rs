//! Error signatures: a log message made a template by masking what varies
//! between occurrences of the same problem — numbers, hex ids, UUIDs, quoted
//! values, paths, addresses, emails — so `timeout after 3012 ms talking to
//! 10.0.4.7:5432` and `timeout after 2998 ms talking to 10.0.4.9:5432` are one
//! signature, `timeout after <num> ms talking to <ip>`. One pass over the
//! bytes, no regular expressions: signatures are made for every error line
//! scanned, at well over a million lines a second on one core.

/// The longest template kept; longer messages are cut (stack traces repeat
/// their first line's problem).
const MAX_TEMPLATE: usize = 240;

/// `message` as a signature template.
pub fn template(message: &str) -> String {
    // A multi-line message (a stack trace) is signed by its first line.
    let line = message.lines().find(|l| !l.trim().is_empty()).unwrap_or_default().trim();
    let b = line.as_bytes();
    let mut out = String::with_capacity(line.len().min(MAX_TEMPLATE) + 8);
    let mut i = 0;
    while i < b.len() && out.len() < MAX_TEMPLATE {
        let c = b[i];
        // Quoted values: "…" and '…' (an apostrophe inside a word is not a quote).
        if (c == b'"' || (c == b'\'' && (i == 0 || !b[i - 1].is_ascii_alphanumeric())))
            && let Some(len) = b[i + 1..].iter().position(|x| *x == c)
        {
            out.push(c as char);
            out.push_str("<str>");
            out.push(c as char);
            i += len + 2;
            continue;
        }
        if c.is_ascii_alphanumeric() || c == b'/' || c == b'.' || c == b'-' || c == b'_' || c == b':' || c == b'@' {
            let start = i;
            while i < b.len()
                && (b[i].is_ascii_alphanumeric()
                    || matches!(b[i], b'/' | b'.' | b'-' | b'_' | b':' | b'@' | b'%' | b'='))
            {
                i += 1;
            }
            push_token(&mut out, &line[start..i]);
            continue;
        }
        // Anything else (spaces, brackets, commas, non-ASCII) stays, spaces folded.
        let ch = line[i..].chars().next().unwrap_or(' ');
        if ch.is_whitespace() {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(ch);
        }
        i += ch.len_utf8();
    }
    out.trim().to_owned()
}

/// One token: kept when it is a word, masked when it varies.
fn push_token(out: &mut String, token: &str) {
    // `key=value`: the key stays, the value is masked on its own.
    if let Some((k, v)) = token.split_once('=')
        && !k.is_empty()
        && k.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-')
    {
        out.push_str(k);
        out.push('=');
        if !v.is_empty() {
            push_token(out, v);
        }
        return;
    }
    out.push_str(mask(token).unwrap_or(token));
}

/// What a varying token becomes, or `None` for a word that stays.
fn mask(t: &str) -> Option<&'static str> {
    let b = t.as_bytes();
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    if t.contains('@') && t.contains('.') && !t.starts_with('@') {
        return Some("<email>");
    }
    if t.contains("://") {
        return Some("<url>");
    }
    if t.starts_with('/') && t.len() > 1 || t.starts_with("./") || t.starts_with("../") {
        return Some("<path>");
    }
    if is_uuid(b) {
        return Some("<uuid>");
    }
    if is_ip(t) {
        return Some("<ip>");
    }
    if digits == 0 {
        return None;
    }
    let trimmed = t.trim_end_matches([':', '.', ',']);
    let tb = trimmed.as_bytes();
    // 42, 3.14, -7, 1e9, 12ms, 250MB, 2026-12-05, 10:42:07: numbers, maybe with a unit.
    let numeric_head = tb.first().is_some_and(|c| c.is_ascii_digit() || *c == b'-');
    let body_numeric = tb.iter().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b':' | b'+' | b'T' | b'Z'));
    if numeric_head
        && (body_numeric || tb.iter().skip_while(|c| c.is_ascii_digit() || **c == b'.').all(u8::is_ascii_alphabetic))
    {
        return Some("<num>");
    }
    // 0x1f, deadbeef42, a sha: long runs of hex with digits.
    let hex = tb.strip_prefix(b"0x").unwrap_or(tb);
    if hex.len() >= 6 && hex.iter().all(u8::is_ascii_hexdigit) {
        return Some("<hex>");
    }
    // user-4812, order_99231, job-000123: an identifier with a number in it
    // (mostly digits, or a number after a separator, or a long one at the end).
    let tail = tb.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    let separated = tail > 0 && tail < tb.len() && matches!(tb[tb.len() - tail - 1], b'-' | b'_' | b':' | b'#');
    if digits * 2 > tb.len() || separated || tail >= 5 {
        return Some("<id>");
    }
    // A generated part (`7f9c6d`): letters and digits mixed, not a word with
    // a short number at its end (`sha256`, `base64`).
    let generated = trimmed.split(['-', '_', '.']).any(|s| {
        let sd = s.bytes().filter(u8::is_ascii_digit).count();
        let tail = s.bytes().rev().take_while(u8::is_ascii_digit).count();
        s.len() >= 5 && sd >= 2 && sd > tail
    });
    generated.then_some("<id>")
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter()
            .enumerate()
            .all(|(i, c)| if [8, 13, 18, 23].contains(&i) { *c == b'-' } else { c.is_ascii_hexdigit() })
}

fn is_ip(t: &str) -> bool {
    let host = t.rsplit_once(':').filter(|(_, p)| p.bytes().all(|c| c.is_ascii_digit())).map_or(t, |(h, _)| h);
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4 && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::template;

    #[test]
    fn what_varies_is_masked_and_what_names_the_problem_stays() {
        let same = ["timeout after 3012 ms talking to 10.0.4.7:5432", "timeout after 2998 ms talking to 10.0.4.9:5432"];
        assert_eq!(template(same[0]), template(same[1]));
        assert_eq!(template(same[0]), "timeout after <num> ms talking to <ip>");
        assert_eq!(
            template(
                r#"order 99231 failed: card_declined for user="ana@example.com" id=7c9e6679-7425-40de-944b-e07fc1f90ae7"#
            ),
            r#"order <num> failed: card_declined for user="<str>" id=<uuid>"#
        );
        assert_eq!(template("GET /api/v1/orders/42 returned 502 in 12ms"), "GET <path> returned <num> in <num>");
        assert_eq!(
            template("TimeoutError: upstream payments-7f9c6d-x2x9z did not answer\n  at Client.call (client.js:42)"),
            "TimeoutError: upstream <id> did not answer"
        );
        assert_eq!(template("sha256 mismatch in base64 body"), "sha256 mismatch in base64 body");
        assert_eq!(template("commit deadbeef42 can't be found in 'main'"), "commit <hex> can't be found in '<str>'");
        assert_eq!(template("connection reset by peer"), "connection reset by peer");
        assert_eq!(template("retry 3 of 5 for job-000123"), "retry <num> of <num> for <id>");
        assert_eq!(template(""), "");
    }
}
