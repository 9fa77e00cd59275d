//! Changes a language model proposed on someone's behalf, waiting for that
//! person to confirm them: kept in the store as tickets, so a confirmation
//! clicked on any replica finds the proposal, and each is carried out once.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Result;
use crate::ids::UserName;
use crate::model::Millis;
use crate::ops::OpKind;
use crate::policy::Caller;

/// The store's ticket kind of proposals.
const PROPOSAL_TICKET: &str = "proposal";
/// How long a proposal waits for its confirmation.
pub const PROPOSAL_TTL_MS: Millis = 30 * 60 * 1000;

/// A write the agent proposed, waiting for the person who asked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    pub user: UserName,
    pub operation: OpKind,
    pub arguments: Value,
}

/// What answering a proposal found.
#[derive(Clone, Debug, PartialEq)]
pub enum Answered {
    /// The caller's own proposal, now taken: nobody else will carry it out.
    Yours(Proposal),
    /// Someone else's: left for them.
    NotYours(UserName),
    /// Expired, already answered, or never made.
    Gone,
}

impl crate::service::Service {
    /// Keeps `operation` with `arguments` for `caller` to confirm; its id
    /// (12 hex digits, the `confirm:<id>` / `cancel:<id>` of the buttons).
    pub async fn propose(&self, caller: &Caller, operation: OpKind, arguments: Value) -> Result<String> {
        let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        let proposal = Proposal { user: caller.user.clone(), operation, arguments };
        let value = serde_json::to_value(&proposal).expect("proposals serialize");
        let now = self.now();
        self.ctx.graph.prune_tickets(now).await?;
        self.ctx.graph.put_ticket(PROPOSAL_TICKET, &id, &value, now + PROPOSAL_TTL_MS).await?;
        Ok(id)
    }

    /// Takes proposal `id` for `caller` if it is theirs; exactly one answer
    /// among every process wins it.
    pub async fn answer_proposal(&self, caller: &Caller, id: &str) -> Result<Answered> {
        let now = self.now();
        let read = |v: Value| serde_json::from_value::<Proposal>(v).ok();
        let Some(found) = self.ctx.graph.get_ticket(PROPOSAL_TICKET, id, now).await?.and_then(read) else {
            return Ok(Answered::Gone);
        };
        if found.user != caller.user {
            return Ok(Answered::NotYours(found.user));
        }
        Ok(match self.ctx.graph.take_ticket(PROPOSAL_TICKET, id, now).await?.and_then(read) {
            Some(p) => Answered::Yours(p),
            None => Answered::Gone,
        })
    }
}
