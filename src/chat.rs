//! `switchboard chat`: a terminal conversation on the same core as every chat
//! surface. Works on the demo store, with or without an LLM; on a terminal a
//! model's answer is printed as it arrives.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Mutex;

use anyhow::Context;
use switchboard_agents::llm::Progress;
use switchboard_bot::{Block, Conversation};
use switchboard_core::{Caller, Service};

/// Runs the REPL as `caller` until `exit`, `quit` or end of input.
pub async fn run(service: Service, caller: Caller) -> anyhow::Result<()> {
    let llm = &service.config().llm;
    let model = llm.base_url.as_ref().map(|url| format!("{} at {url}", llm.model));
    let conversation = Conversation::new(service.clone()).await?;
    let interactive = std::io::stdin().is_terminal();
    let live = std::io::stdout().is_terminal();
    if interactive {
        eprintln!(
            "Switchboard chat as {} ({}). Ask anything; `help` lists what I understand, `exit` leaves.",
            caller.user, caller.role
        );
        match model {
            Some(m) => {
                eprintln!("Answers come from the model {m}; commands such as `/sb get_project project=orders` do not.")
            }
            None => {
                eprintln!("No language model is configured ([llm] in the config file): the built-in commands answer.")
            }
        }
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
        let streamed = Mutex::new(String::new());
        let progress = |p: Progress| {
            if !live {
                return;
            }
            match p {
                Progress::Text(t) => {
                    print!("{t}");
                    std::io::stdout().flush().ok();
                    streamed.lock().unwrap_or_else(|e| e.into_inner()).push_str(&t);
                }
                Progress::Tool(op) => eprintln!("(looking up {})", op.name().replace('_', " ")),
            }
        };
        let mut reply = conversation.handle_streaming(&caller, "terminal", text, &progress).await.reply;
        let streamed = streamed.into_inner().unwrap_or_else(|e| e.into_inner());
        if !streamed.is_empty() {
            println!();
            // The words already on screen are not printed twice.
            if matches!(reply.blocks.first(), Some(Block::Text { text }) if text.trim() == streamed.trim()) {
                reply.blocks.remove(0);
            }
        }
        println!("{}\n", reply.to_text());
    }
    Ok(())
}
