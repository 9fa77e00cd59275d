//! `switchboard chat`: a terminal conversation on the same core as every chat
//! surface. Works on the demo store, with no LLM.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;
use switchboard_bot::Conversation;
use switchboard_core::model::Role;
use switchboard_core::{Caller, Service};

/// Runs the REPL until `exit`, `quit` or end of input.
pub async fn run(service: Service, user: Option<String>) -> anyhow::Result<()> {
    let caller = match user {
        None => Caller::new("cli", Role::Admin, "terminal"),
        Some(name) => {
            let id = name.parse().map_err(|e| anyhow::anyhow!("--as: {e}"))?;
            let user = service
                .graph()
                .get_user(&id)
                .await?
                .with_context(|| format!("--as: there is no user {name}; the demo has alice, bob, carol, dave…"))?;
            Caller { user: user.name, role: user.role, source: "terminal".into() }
        }
    };
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
