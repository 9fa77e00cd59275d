//! The `user` and `token` commands: accounts and API tokens, as the local
//! admin, through the same operations as every other surface.

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use switchboard_core::Caller;
use switchboard_core::model::Role;

use crate::cli::*;

#[derive(Subcommand, Debug)]
pub(crate) enum TokenCommand {
    /// Create a token; prints it once, as the last line. Creates the user with
    /// --role if it does not exist.
    Create {
        #[arg(long)]
        user: String,
        /// viewer, editor, approver or admin. Default: the user's role (viewer for a new user).
        #[arg(long)]
        role: Option<String>,
        /// How long the token lives: 90d, 12h, 2w… or `never`.
        #[arg(long, default_value = "90d")]
        expires: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List tokens (never their secrets).
    List {
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token by its id (tok_…).
    Revoke {
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Replace a token with a new secret (same user, role and lifetime);
    /// the old one stops working at once. Prints the new one as the last line.
    Rotate {
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum UserCommand {
    /// Set a user's portal password, read from standard input (first line).
    /// Creates the user with --role if it does not exist; with --role, an
    /// existing user's role changes too. Their sessions end.
    SetPassword {
        #[arg(long)]
        user: String,
        /// viewer, editor, approver or admin. Default: viewer for a new user,
        /// unchanged for an existing one.
        #[arg(long)]
        role: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Every account: role, email, how they sign in, state, active tokens.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Change a user's role; their sessions end and their tokens are capped.
    SetRole {
        #[arg(long)]
        user: String,
        /// viewer, editor, approver or admin.
        #[arg(long)]
        role: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Set (or with --email none, remove) a user's email.
    SetEmail {
        #[arg(long)]
        user: String,
        #[arg(long)]
        email: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Disable an account: no sign-in, sessions ended, tokens revoked.
    Disable {
        #[arg(long)]
        user: String,
        /// Why, for the operations log.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Enable a disabled account again.
    Enable {
        #[arg(long)]
        user: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// End every portal session of a user.
    SignOutEverywhere {
        #[arg(long)]
        user: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// The user commands that are operations: name and arguments.
fn user_operation(command: &UserCommand) -> Option<(&'static str, serde_json::Value, &StoreArgs)> {
    use serde_json::json;
    Some(match command {
        UserCommand::SetPassword { .. } => return None,
        UserCommand::List { store } => ("list_users", json!({}), store),
        UserCommand::SetRole { user, role, store } => ("set_user_role", json!({"user": user, "role": role}), store),
        UserCommand::SetEmail { user, email, store } => {
            let email = (email != "none").then_some(email);
            ("set_user_email", json!({"user": user, "email": email}), store)
        }
        UserCommand::Disable { user, reason, store } => {
            ("disable_user", json!({"user": user, "reason": reason}), store)
        }
        UserCommand::Enable { user, store } => ("enable_user", json!({"user": user}), store),
        UserCommand::SignOutEverywhere { user, store } => ("sign_out_everywhere", json!({"user": user}), store),
    })
}

pub(crate) async fn user(command: UserCommand) -> anyhow::Result<ExitCode> {
    use std::io::{BufRead, IsTerminal};
    if let Some((name, args, store)) = user_operation(&command) {
        let service = store.open().await?;
        return match service.execute_json(&Caller::new("cli", Role::Admin, "cli"), name, args).await {
            Ok(output) => {
                let base = service.config().server.base_url();
                let reply = switchboard_bot::answer::render(&output, &base);
                println!("{}", reply.to_text());
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("error: {e}");
                Ok(ExitCode::from(2))
            }
        };
    }
    let UserCommand::SetPassword { user, role, store } = command else {
        anyhow::bail!("this user command is an operation, run above");
    };
    let name = user.parse().map_err(|e| anyhow::anyhow!("--user: {e}"))?;
    let role = role.as_deref().map(parse_role).transpose()?;
    if std::io::stdin().is_terminal() {
        eprint!("Password for {user} (typing is visible; pipe it in to hide it): ");
    }
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password).context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']);
    let service = store.open().await?;
    match service.set_password(&Caller::new("cli", Role::Admin, "cli"), &name, password, role).await {
        Ok(created) => {
            if created {
                println!("Created user {user}.");
            }
            println!("Password set for {user}; they can sign in at /login.");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(2))
        }
    }
}

fn parse_role(s: &str) -> anyhow::Result<Role> {
    Role::ALL
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or_else(|| anyhow::anyhow!("--role {s:?} is not a role; use viewer, editor, approver or admin"))
}

pub(crate) async fn token(command: TokenCommand) -> anyhow::Result<ExitCode> {
    use switchboard_core::time::{TimeArg, format_ms};
    let admin = Caller::new("cli", Role::Admin, "cli");
    let service = match &command {
        TokenCommand::Create { store, .. }
        | TokenCommand::List { store, .. }
        | TokenCommand::Revoke { store, .. }
        | TokenCommand::Rotate { store, .. } => store.open().await?,
    };
    let result = match command {
        TokenCommand::Create { user, role, expires, .. } => {
            let user = user.parse().map_err(|e| anyhow::anyhow!("--user: {e}"))?;
            let role = role.as_deref().map(parse_role).transpose()?;
            let expires_in = match expires.as_str() {
                "never" => None,
                e => match TimeArg::parse(e) {
                    Ok(TimeArg::Ago(ms)) => Some(ms),
                    _ => anyhow::bail!("--expires {e:?}: use a span such as 90d, 12h or 2w, or `never`"),
                },
            };
            service.create_token(&admin, &user, role, expires_in).await.map(|t| {
                if t.created_user {
                    println!("Created user {} ({}).", t.token.user, t.token.role);
                }
                let until = t.token.expires_at.map(format_ms).unwrap_or_else(|| "never".into());
                println!("Token {} for {} ({}), expires {until}.", t.token.id, t.token.user, t.token.role);
                println!("Store it now: it is shown only once.");
                println!("{}", t.secret);
            })
        }
        TokenCommand::List { user, .. } => {
            let user = user.map(|u| u.parse()).transpose().map_err(|e| anyhow::anyhow!("--user: {e}"))?;
            service.list_tokens(&admin, user.as_ref()).await.map(|tokens| {
                for t in tokens {
                    let state = match (t.revoked_at, t.expires_at) {
                        (Some(r), _) => format!("revoked {}", format_ms(r)),
                        (None, Some(e)) => format!("expires {}", format_ms(e)),
                        (None, None) => "never expires".into(),
                    };
                    println!("{}  {}  {}  created {}  {state}", t.id, t.user, t.role, format_ms(t.created_at));
                }
            })
        }
        TokenCommand::Revoke { id, .. } => {
            service.revoke_token(&admin, &id).await.map(|t| println!("Revoked {} ({}).", t.id, t.user))
        }
        TokenCommand::Rotate { id, .. } => service.rotate_token(&admin, &id).await.map(|t| {
            let until = t.token.expires_at.map(format_ms).unwrap_or_else(|| "never".into());
            println!("Revoked {id}; token {} for {} ({}), expires {until}.", t.token.id, t.token.user, t.token.role);
            println!("Store it now: it is shown only once.");
            println!("{}", t.secret);
        }),
    };
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(2))
        }
    }
}
