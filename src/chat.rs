//! `switchboard chat`: a terminal conversation on the same core as every chat
//! surface. Works on the demo store, with or without an LLM; on a terminal a
//! model's answer is printed as it arrives.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Context;
use switchboard_agents::llm::Progress;
use switchboard_bot::{Block, Conversation};
use switchboard_core::{Caller, Service};

/// Where lines come from: on a terminal, an editor with history (arrows,
/// Ctrl-R, kept in `history` between sessions); otherwise standard input's lines.
enum Input {
    Editor { editor: Box<rustyline::DefaultEditor>, history: Option<PathBuf> },
    Lines(std::io::Lines<std::io::StdinLock<'static>>),
}

/// Lines kept in the terminal chat's history.
const HISTORY: usize = 1000;
/// The history's file, in the store's directory.
pub const HISTORY_FILE: &str = "chat-history";

impl Input {
    fn open(interactive: bool, history: Option<PathBuf>) -> Self {
        if interactive {
            let config = rustyline::Config::builder().max_history_size(HISTORY).map(|b| b.build());
            if let Ok(mut editor) = config.and_then(rustyline::DefaultEditor::with_config) {
                if let Some(path) = &history {
                    // A first session has none yet.
                    let _ = editor.load_history(path);
                }
                return Self::Editor { editor: Box::new(editor), history };
            }
        }
        Self::Lines(std::io::stdin().lock().lines())
    }

    /// The next line; `None` at the end of input (Ctrl-D) or on Ctrl-C.
    fn next(&mut self) -> anyhow::Result<Option<String>> {
        match self {
            Self::Editor { editor, .. } => match editor.readline("> ") {
                Ok(line) => Ok(Some(line)),
                Err(rustyline::error::ReadlineError::Eof | rustyline::error::ReadlineError::Interrupted) => Ok(None),
                Err(e) => Err(anyhow::anyhow!("cannot read from the terminal: {e}")),
            },
            Self::Lines(lines) => lines.next().transpose().context("cannot read from standard input"),
        }
    }

    /// Remembers a question (not `exit`: the up arrow would only leave).
    fn remember(&mut self, line: &str) {
        if let Self::Editor { editor, .. } = self {
            let _ = editor.add_history_entry(line);
        }
    }

    /// Keeps the history for the next session (a failure to write it is said, not fatal).
    fn close(self) {
        if let Self::Editor { mut editor, history: Some(path) } = self
            && let Err(e) = editor.save_history(&path)
        {
            eprintln!("(the chat history could not be kept in {}: {e})", path.display());
        }
    }
}

/// Runs the REPL as `caller` until `exit`, `quit` or end of input; on a
/// terminal with line editing and the history kept in `history`.
pub async fn run(service: Service, caller: Caller, history: Option<PathBuf>) -> anyhow::Result<()> {
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
    let mut input = Input::open(interactive, history);
    loop {
        let Some(line) = input.next()? else { break };
        let text = line.trim();
        if matches!(text, "exit" | "quit") {
            break;
        }
        if text.is_empty() {
            continue;
        }
        input.remember(text);
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
    input.close();
    Ok(())
}
