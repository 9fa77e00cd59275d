//! The terminal chat on a real terminal (a pseudo-terminal driven by
//! Python's `pty`): lines are edited, the up arrow recalls the last
//! question, and the history is kept in the store's directory for the next
//! session. Piped input keeps working line by line (tests/cli.rs).

mod common;

use std::process::Command;

use common::*;

/// Drives `switchboard chat` on a pseudo-terminal: types each of `keys`
/// (raw bytes, `\r` for Enter) after the prompt, and returns what the
/// terminal showed.
fn on_a_terminal(data: &str, keys: &[&str]) -> String {
    const DRIVER: &str = r#"
import os, pty, select, sys, time
binary, data, keys = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(binary, [binary, "chat", "--data-dir", data, "--as", "carol"])
seen = b""
# Each new line's prompt turns on bracketed paste once (its redraws as one
# types do not): that marks the chat waiting for the next line.
PROMPT = b"\x1b[?2004h"
def until_prompt():
    global seen
    deadline = time.time() + 30
    start = len(seen)
    want = seen.count(PROMPT) + 1
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            seen += chunk
            if seen.count(PROMPT) >= want:
                return
    sys.exit("no prompt after: " + seen[start:].decode(errors="replace"))
until_prompt()
for k in keys:
    os.write(fd, k.encode().decode("unicode_escape").encode())
    until_prompt()
os.write(fd, b"exit\r")
os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
"#;
    let mut args = vec!["-c", DRIVER, BIN, data];
    args.extend_from_slice(keys);
    let out = Command::new("python3").args(&args).output().expect("python3 runs");
    assert!(out.status.success(), "{}\n{}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn the_terminal_chat_edits_lines_and_remembers_them() {
    let data = seeded();
    let dir = data.path().to_str().unwrap();
    // A typo mended with Backspace, then the question again with the up arrow.
    let shown = on_a_terminal(dir, &["who owns ordersx\\x7f\\r", "\\x1b[A\\r"]);
    assert_eq!(shown.matches("orders is owned by Checkout (team checkout)").count(), 2, "{shown}");
    let kept = std::fs::read_to_string(data.path().join("chat-history")).unwrap();
    assert!(kept.contains("who owns orders") && !kept.contains("ordersx"), "{kept}");
    // The next session starts with it: the up arrow asks it again.
    let shown = on_a_terminal(dir, &["\\x1b[A\\r"]);
    assert!(shown.contains("orders is owned by Checkout (team checkout)"), "{shown}");
}
