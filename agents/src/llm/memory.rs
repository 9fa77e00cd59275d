//! Conversation memory for the model: the newest turns of the thread that
//! fit a token budget, oldest first. Tokens are estimated at four characters
//! each, which errs on the generous side for English and code.

use serde_json::{Value, json};
use switchboard_core::model::ChatMessage;

/// The author name the conversation core stores answers under.
pub const ASSISTANT: &str = "switchboard";

pub fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}

/// Chat messages (`role`/`content`) from `history`, newest kept first, within `budget` tokens.
pub fn recall(history: &[ChatMessage], budget: usize) -> Vec<Value> {
    let mut left = budget;
    let mut kept = Vec::new();
    for m in history.iter().rev() {
        let cost = estimate_tokens(&m.text);
        let text = if cost <= left {
            m.text.clone()
        } else if kept.is_empty() {
            // The newest message alone is over budget: keep its end.
            let chars: Vec<char> = m.text.chars().collect();
            chars[chars.len().saturating_sub(left * 4)..].iter().collect()
        } else {
            break;
        };
        left = left.saturating_sub(estimate_tokens(&text));
        let role = if m.author == ASSISTANT { "assistant" } else { "user" };
        kept.push(json!({"role": role, "content": text}));
        if left == 0 {
            break;
        }
    }
    kept.reverse();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(author: &str, text: &str) -> ChatMessage {
        ChatMessage { thread: "t".into(), author: author.into(), text: text.into(), at: 0, reply: None }
    }

    #[test]
    fn keeps_the_newest_turns_within_budget() {
        let history = vec![
            msg("alice", &"a".repeat(400)),
            msg(ASSISTANT, &"b".repeat(400)),
            msg("alice", "who owns orders?"),
            msg(ASSISTANT, "team fulfilment"),
        ];
        let kept = recall(&history, 120);
        assert_eq!(kept.len(), 3, "{kept:?}");
        assert_eq!(kept[0]["role"], "assistant");
        assert_eq!(kept[2]["content"], "team fulfilment");
        assert!(kept.iter().map(|m| estimate_tokens(m["content"].as_str().unwrap())).sum::<usize>() <= 120);
        assert_eq!(recall(&history, 10_000).len(), 4);
    }

    #[test]
    fn a_huge_last_message_is_cut_to_the_budget() {
        let kept = recall(&[msg("alice", &"x".repeat(10_000))], 200);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0]["content"].as_str().unwrap().len(), 800);
    }
}
