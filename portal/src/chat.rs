//! The portal's web chat panel. Conversation handling lives in `bot` like any
//! chat platform; this module only renders replies as HTML and carries clicks
//! back. Every state-changing request is CSRF-checked.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use switchboard_bot::{Block, ButtonStyle, Reply};
use switchboard_core::{Caller, Error};

use crate::error::PageError;
use crate::views::banner;
use crate::{ClientAddress, PageCaller, PortalState, SPEAK_AS, csrf, with_cookie};
use switchboard_core::limits::Limit;

/// Cookie holding the browser's chat thread.
const THREAD: &str = "sb_chat";

pub(crate) fn routes() -> Router<PortalState> {
    Router::new()
        .route("/chat", get(page))
        .route("/chat/messages", post(message))
        .route("/chat/stream/{id}", get(crate::chat_stream::open))
        .route("/chat/actions", post(action))
        .route("/chat/runs/{id}/thread", get(run_thread))
        .route("/demo/as", post(speak_as))
}

pub(crate) struct ButtonView {
    pub label: String,
    pub action: String,
    pub style: &'static str,
}

/// One reply block, flattened for the template.
pub(crate) struct BlockView {
    pub kind: &'static str,
    pub text: String,
    pub fields: Vec<(String, String)>,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub url: String,
    pub buttons: Vec<ButtonView>,
}

impl BlockView {
    fn empty(kind: &'static str) -> Self {
        Self {
            kind,
            text: String::new(),
            fields: vec![],
            headers: vec![],
            rows: vec![],
            url: String::new(),
            buttons: vec![],
        }
    }
}

fn blocks(reply: &Reply) -> Vec<BlockView> {
    reply
        .blocks
        .iter()
        .map(|b| match b {
            Block::Text { text } => BlockView { text: text.clone(), ..BlockView::empty("text") },
            Block::Fields { fields } => BlockView { fields: fields.clone(), ..BlockView::empty("fields") },
            Block::Table { headers, rows } => {
                BlockView { headers: headers.clone(), rows: rows.clone(), ..BlockView::empty("table") }
            }
            Block::Link { title, url } => {
                BlockView { text: title.clone(), url: url.clone(), ..BlockView::empty("link") }
            }
            Block::Buttons { buttons } => BlockView {
                buttons: buttons
                    .iter()
                    .map(|b| ButtonView {
                        label: b.label.clone(),
                        action: b.action.clone(),
                        style: match b.style {
                            ButtonStyle::Primary => "primary",
                            ButtonStyle::Danger => "danger",
                            ButtonStyle::Default => "default",
                        },
                    })
                    .collect(),
                ..BlockView::empty("buttons")
            },
        })
        .collect()
}

/// `reply` with each Approve/Deny pair of a run no longer pending replaced
/// by what became of the run, and of a run `caller` may not approve by
/// why: the buttons are only offered while they work for who reads them.
async fn current(state: &PortalState, caller: &Caller, mut reply: Reply) -> Reply {
    use switchboard_core::model::RunStatus;
    for block in &mut reply.blocks {
        let Block::Buttons { buttons } = block else { continue };
        let Some(id) = buttons.iter().find_map(|b| b.action.strip_prefix("approve_run:")) else { continue };
        let Ok(id) = id.parse() else { continue };
        let Ok(Some(run)) = state.service.graph().get_run(&id).await else { continue };
        let status = run.status_at(state.service.now());
        if status != RunStatus::Pending {
            *block = Block::Text { text: crate::messages::run_now(status.as_str()) };
        } else if let Ok(Some(why)) = state.service.why_not_approve(caller, &run).await {
            *block = Block::Text { text: crate::messages::cannot_approve(&why) };
        }
    }
    reply
}

pub(crate) struct TurnView {
    pub asked: String,
    pub speaker: String,
    pub blocks: Vec<BlockView>,
    /// Where the answer streams from, while it is being written.
    pub stream: String,
    /// The run the answer asked for, whose thread follows it; none: empty.
    pub run: Option<ThreadView>,
}

/// What was said in a run's thread since it was requested, as Slack and
/// Discord show it under the request; `live` while more may come (the page
/// asks again every few seconds until then).
pub(crate) struct ThreadView {
    pub run: String,
    pub live: bool,
    pub lines: Vec<BlockView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "chat_thread.html")]
struct ThreadFragment {
    th: ThreadView,
}

/// The run an answer is about: the one its Approve button, or its link, names.
fn run_of(reply: &Reply) -> Option<switchboard_core::ids::RunId> {
    reply.blocks.iter().find_map(|b| match b {
        Block::Buttons { buttons } => buttons.iter().find_map(|b| b.action.strip_prefix("approve_run:")?.parse().ok()),
        Block::Link { url, .. } => url.rsplit_once("/runs/")?.1.parse().ok(),
        _ => None,
    })
}

/// The thread of `id`, if it names a run.
async fn thread_view(state: &PortalState, id: switchboard_core::ids::RunId) -> Result<Option<ThreadView>, PageError> {
    let Some(run) = state.service.graph().get_run(&id).await? else { return Ok(None) };
    let (replies, live) = switchboard_bot::courier::read_run_thread(&state.service, &run).await?;
    let lines = replies.iter().flat_map(blocks).filter(|b| matches!(b.kind, "text" | "link")).collect();
    Ok(Some(ThreadView { run: id.to_string(), live, lines }))
}

/// A run's thread, for the chat page to follow it.
async fn run_thread(
    State(state): State<PortalState>,
    PageCaller(_): PageCaller,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, PageError> {
    let run = id.parse().map_err(|_| PageError(Error::not_found("run", &id)))?;
    let th = thread_view(&state, run).await?.ok_or_else(|| PageError(Error::not_found("run", &id)))?;
    Ok(ThreadFragment { th }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "chat.html")]
struct ChatPage {
    banner: Option<String>,
    csrf: String,
    demo: bool,
    speaker: String,
    users: Vec<(String, String)>,
    turns: Vec<TurnView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "chat_turn.html")]
struct TurnFragment {
    csrf: String,
    t: TurnView,
}

#[derive(Template, WebTemplate)]
#[template(path = "chat_reply.html")]
struct ReplyFragment {
    csrf: String,
    blocks: Vec<BlockView>,
    run: Option<ThreadView>,
}

/// The conversation a browser continues: a signed-in person's own (one per
/// person, whatever the browser); otherwise (the demo, anonymous visitors)
/// the one its cookie names, made when missing.
fn thread(state: &PortalState, caller: &Caller, headers: &HeaderMap) -> (String, Option<String>) {
    if matches!(state.mode, crate::Mode::Serve) && caller.user.as_str() != "anonymous" {
        return (format!("web:{}", caller.user), None);
    }
    match csrf::cookie(headers, THREAD).filter(|t| t.len() == 32 && t.chars().all(|c| c.is_ascii_hexdigit())) {
        Some(t) => (t.to_owned(), None),
        None => {
            let t = uuid::Uuid::new_v4().simple().to_string();
            let secure = if state.secure_cookies() { "; Secure" } else { "" };
            (t.clone(), Some(format!("{THREAD}={t}; Path=/; SameSite=Strict; HttpOnly{secure}")))
        }
    }
}

async fn page(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (csrf, set_csrf) = csrf::token(&headers, state.secure_cookies());
    let (thread, set_thread) = thread(&state, &caller, &headers);
    // Each turn as it was: who asked, and the answer's tables and buttons
    // (a decided run's buttons give way to what became of it).
    let mut turns = Vec::new();
    for t in state.conversation.history(&thread).await {
        let (reply, run) = match t.reply {
            Some(reply) => {
                let run = match run_of(&reply) {
                    Some(id) => thread_view(&state, id).await?,
                    None => None,
                };
                (current(&state, &caller, reply).await, run)
            }
            None => (Reply::text(t.answered), None),
        };
        let stream = String::new();
        turns.push(TurnView { asked: t.asked, speaker: t.speaker, blocks: blocks(&reply), stream, run });
    }
    let demo = matches!(state.mode, crate::Mode::Demo);
    let users = if demo {
        state
            .service
            .graph()
            .list_users()
            .await?
            .into_iter()
            .map(|u| (u.name.to_string(), format!("{} ({})", u.display_name, u.role)))
            .collect()
    } else {
        Vec::new()
    };
    let page =
        ChatPage { banner: banner(&state.mode, &caller), csrf, demo, speaker: caller.user.to_string(), users, turns };
    Ok(with_cookie(with_cookie(page.into_response(), set_csrf), set_thread))
}

#[derive(Deserialize)]
struct MessageForm {
    csrf: Option<String>,
    text: String,
    /// `1`: answer with a placeholder and stream the reply (the page's script does this).
    stream: Option<String>,
}

async fn message(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    axum::Form(form): axum::Form<MessageForm>,
) -> Result<Response, PageError> {
    csrf::require(&headers, form.csrf.as_deref())?;
    let (thread, set_thread) = thread(&state, &caller, &headers);
    let (csrf, _) = csrf::token(&headers, state.secure_cookies());
    let speaker = caller.user.to_string();
    if let Err(limited) = state.service.limits().check(Limit::Chat, state.chat_key(&caller, &address)) {
        if !headers.contains_key("hx-request") {
            return Err(limited.into());
        }
        // In the page, the refusal is an answer in the conversation (htmx
        // does not show 4xx bodies); the header still says when to retry.
        let retry = match &limited {
            Error::RateLimited { retry_after_secs, .. } => *retry_after_secs,
            _ => 1,
        };
        let reply = Reply::text(limited.to_string());
        let t = TurnView { asked: form.text, speaker, blocks: blocks(&reply), stream: String::new(), run: None };
        let mut response = TurnFragment { csrf, t }.into_response();
        response.headers_mut().insert(axum::http::header::RETRY_AFTER, retry.into());
        return Ok(response);
    }
    if headers.contains_key("hx-request") && form.stream.as_deref() == Some("1") {
        let reply_csrf = csrf.clone();
        let render = move |reply: &Reply| {
            // The thread is read once the reply is in the page.
            let run = run_of(reply).map(|id| ThreadView { run: id.to_string(), live: true, lines: vec![] });
            crate::chat_stream::render_html(&ReplyFragment { csrf: reply_csrf, blocks: blocks(reply), run })
        };
        let stream = crate::chat_stream::start(&state, caller, thread, form.text.clone(), render).await;
        let fragment =
            TurnFragment { csrf, t: TurnView { asked: form.text, speaker, blocks: vec![], stream, run: None } };
        return Ok(with_cookie(fragment.into_response(), set_thread));
    }
    let turn = state.conversation.handle(&caller, &thread, &form.text).await;
    if !headers.contains_key("hx-request") {
        return Ok(with_cookie(Redirect::to("/chat").into_response(), set_thread));
    }
    let run = match run_of(&turn.reply) {
        Some(id) => thread_view(&state, id).await?,
        None => None,
    };
    let reply = current(&state, &caller, turn.reply).await;
    let t = TurnView { asked: form.text, speaker, blocks: blocks(&reply), stream: String::new(), run };
    let fragment = TurnFragment { csrf, t };
    Ok(with_cookie(fragment.into_response(), set_thread))
}

#[derive(Deserialize)]
struct ActionForm {
    csrf: Option<String>,
    action: String,
}

/// A button click; the answer replaces the message the button was on.
async fn action(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    axum::Form(form): axum::Form<ActionForm>,
) -> Result<Response, PageError> {
    csrf::require(&headers, form.csrf.as_deref())?;
    let turn = state.conversation.click(&caller, &form.action).await;
    // The run the reply names, else the one the button was for.
    let clicked = form.action.split_once(':').and_then(|(_, id)| id.parse().ok());
    let run = match run_of(&turn.reply).or(clicked) {
        Some(id) => thread_view(&state, id).await?,
        None => None,
    };
    let reply = current(&state, &caller, turn.reply).await;
    let (csrf, _) = csrf::token(&headers, state.secure_cookies());
    Ok(ReplyFragment { csrf, blocks: blocks(&reply), run }.into_response())
}

#[derive(Deserialize)]
struct SpeakAsForm {
    csrf: Option<String>,
    user: String,
}

/// Demo only: choose which demo user the browser speaks as.
async fn speak_as(
    State(state): State<PortalState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<SpeakAsForm>,
) -> Result<Response, PageError> {
    if !matches!(state.mode, crate::Mode::Demo) {
        return Err(PageError(Error::not_found("page", "/demo/as")));
    }
    csrf::require(&headers, form.csrf.as_deref())?;
    let name = form
        .user
        .parse()
        .map_err(|e: switchboard_core::ids::IdError| PageError(Error::field("user", e.to_string())))?;
    let user =
        state.service.graph().get_user(&name).await?.ok_or_else(|| PageError(Error::not_found("user", &form.user)))?;
    let cookie = format!("{SPEAK_AS}={}; Path=/; SameSite=Strict; HttpOnly", user.name);
    Ok(with_cookie(Redirect::to("/chat").into_response(), Some(cookie)))
}
