//! Wording snapshots: what the bot says, kept in files beside the tests
//! (`tests/snapshots/NAME.txt` in the calling crate) so a change of wording
//! is seen in review. Run with `SWITCHBOARD_SNAPSHOTS=update` to write the
//! files anew; otherwise a missing or different file fails the test with the
//! lines that differ.

use std::path::Path;

/// Compares `text` with `tests/snapshots/{name}.txt` under the calling crate.
#[macro_export]
macro_rules! assert_snapshot {
    ($name:expr, $text:expr) => {
        $crate::snapshot::check(::std::path::Path::new(env!("CARGO_MANIFEST_DIR")), $name, &$text)
    };
}

/// [`assert_snapshot!`] without the macro: `crate_dir` is the crate's manifest directory.
pub fn check(crate_dir: &Path, name: &str, text: &str) {
    let path = crate_dir.join("tests/snapshots").join(format!("{name}.txt"));
    let shown = format!("tests/snapshots/{name}.txt");
    let text = if text.ends_with('\n') { text.to_owned() } else { format!("{text}\n") };
    if std::env::var("SWITCHBOARD_SNAPSHOTS").as_deref() == Ok("update") {
        std::fs::create_dir_all(path.parent().expect("a snapshots directory")).expect("the snapshots directory");
        std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{shown}: {e}"));
        return;
    }
    let Ok(kept) = std::fs::read_to_string(&path) else {
        panic!(
            "no snapshot {shown}; run the test with SWITCHBOARD_SNAPSHOTS=update to write it, then review it:\n{text}"
        );
    };
    if kept != text {
        panic!(
            "{shown} differs (- kept, + now); if the change is meant, run with SWITCHBOARD_SNAPSHOTS=update:\n{}",
            diff(&kept, &text)
        );
    }
}

/// The lines that differ, with a line of context, by a longest common subsequence.
fn diff(old: &str, new: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(format!("  {}", a[i]));
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(format!("- {}", a[i]));
            i += 1;
        } else {
            out.push(format!("+ {}", b[j]));
            j += 1;
        }
    }
    // Only changed lines and their neighbours.
    let changed: Vec<bool> = out.iter().map(|l| !l.starts_with("  ")).collect();
    out.iter()
        .enumerate()
        .filter(|(k, _)| (k.saturating_sub(1)..=(k + 1).min(out.len() - 1)).any(|n| changed[n]))
        .map(|(_, l)| l.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_shows_changed_lines_with_context() {
        let d = diff("a\nb\nc\nd\ne\n", "a\nb\nC\nd\ne\n");
        assert_eq!(d, "  b\n- c\n+ C\n  d");
    }

    #[test]
    fn a_different_text_fails_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tests/snapshots")).unwrap();
        std::fs::write(dir.path().join("tests/snapshots/x.txt"), "hello\n").unwrap();
        check(dir.path(), "x", "hello");
        let failed = std::panic::catch_unwind(|| check(dir.path(), "x", "goodbye")).unwrap_err();
        let message = failed.downcast_ref::<String>().unwrap();
        assert!(message.contains("x.txt differs") && message.contains("+ goodbye"), "{message}");
        assert!(std::panic::catch_unwind(|| check(dir.path(), "missing", "a")).is_err());
    }
}
