//! `switchboard chat`: a terminal conversation on the same core as every chat
//! surface. Works on the demo store, with no LLM.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;
use switchboard_bot::Conversation;
use switchboard_core::{Caller, Service};

/// Runs the REPL as `caller` until `exit`, `quit` or end of input.
pub async fn run(service: Service, caller: Caller) -> anyhow::Result<()> {
    let conversation = Conversation::new(service).await?;
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        eprintln!(
            "Switchboard chat as {} ({}). Ask anything; `help` lists what I understand, `exit` leaves.",
            caller.user, caller.role
        );
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        if interactive {
            eprint!("> ");
            std::io::stderr().flush().ok();
        }
        let Some(line) = lines.next() else { break };
        let line = line.context("cannot read from standard input")?;
        let text = line.trim();
        if matches!(text, "exit" | "quit") {
            break;
        }
        if text.is_empty() {
            continue;
        }
        let turn = conversation.handle(&caller, "terminal", text).await;
        println!("{}\n", turn.reply.to_text());
    }
    Ok(())
}
