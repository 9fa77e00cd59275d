//! One Bolt 4 connection: the handshake, `HELLO`, and requests written
//! together (`BEGIN`, `RUN`s with their `PULL`s, `COMMIT`) with their
//! answers read in order.
//!
//! Requests go out in one write on a socket with `TCP_NODELAY`: with Nagle's
//! algorithm on, the tail of a message larger than the socket's first
//! segment waits for the server's delayed acknowledgement (40 ms on Linux),
//! which made every write with a few kilobytes of parameters take 40 ms.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf};
use tokio::net::TcpStream;

use super::packstream::{self, Value};
use super::{Error, Query, Row, Target};

const HELLO: u8 = 0x01;
const GOODBYE: u8 = 0x02;
const RESET: u8 = 0x0F;
const RUN: u8 = 0x10;
const BEGIN: u8 = 0x11;
const COMMIT: u8 = 0x12;
const PULL: u8 = 0x3F;

const SUCCESS: u8 = 0x70;
const RECORD: u8 = 0x71;
const IGNORED: u8 = 0x7E;
const FAILURE: u8 = 0x7F;

/// The most a chunk holds (its size is 16 bits).
const MOST_IN_A_CHUNK: usize = 0xFFFF;

/// The most a message from the server may hold: a record larger than this
/// is refused rather than buffered.
const MOST_IN_A_MESSAGE: usize = 256 * 1024 * 1024;

/// The socket, plain or under TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A server's answer to one request.
enum Answer {
    Success(Value),
    Record(Vec<Value>),
    Ignored,
    Failure { code: String, message: String },
}

pub(crate) struct Connection {
    stream: BufReader<Stream>,
    /// Requests written but not yet sent.
    out: Vec<u8>,
    /// The database every request names (`None`: the server's default).
    database: Option<String>,
}

impl Connection {
    /// Connects, agrees on a Bolt 4 version and logs in.
    pub(crate) async fn open(target: &Target) -> Result<Connection, Error> {
        let tcp = TcpStream::connect((target.host.as_str(), target.port)).await?;
        tcp.set_nodelay(true)?;
        let stream = match &target.tls {
            None => Stream::Plain(tcp),
            Some(tls) => {
                let name = rustls::pki_types::ServerName::try_from(target.host.clone())
                    .map_err(|e| Error::Protocol(format!("{}: not a server name: {e}", target.host)))?;
                Stream::Tls(Box::new(tokio_rustls::TlsConnector::from(tls.clone()).connect(name, tcp).await?))
            }
        };
        let mut c = Connection { stream: BufReader::new(stream), out: Vec::new(), database: target.database.clone() };
        // The magic number, then the versions offered, best first: 4.4, 4.3, 4.2, 4.1.
        let handshake = [0x60, 0x60, 0xB0, 0x17, 0, 0, 4, 4, 0, 0, 3, 4, 0, 0, 2, 4, 0, 0, 1, 4];
        c.stream.get_mut().write_all(&handshake).await?;
        c.stream.get_mut().flush().await?;
        let mut agreed = [0; 4];
        c.stream.read_exact(&mut agreed).await?;
        if agreed[3] != 4 {
            return Err(Error::Protocol(format!(
                "the server speaks none of Bolt 4.1–4.4 (it answered {agreed:?}); Neo4j 4.1 or later is needed"
            )));
        }
        let auth = Value::Map(vec![
            ("user_agent".into(), concat!("switchboard/", env!("CARGO_PKG_VERSION")).into()),
            ("scheme".into(), "basic".into()),
            ("principal".into(), target.user.as_str().into()),
            ("credentials".into(), target.password.as_str().into()),
        ]);
        c.request(HELLO, vec![auth]);
        c.send().await?;
        match c.answer().await? {
            Answer::Success(_) => Ok(c),
            Answer::Failure { code, message } => Err(Error::Auth(format!("{code}: {message}"))),
            _ => Err(Error::Protocol("an unexpected answer to HELLO".into())),
        }
    }

    /// Appends a request, in chunks, to what goes out next.
    fn request(&mut self, tag: u8, fields: Vec<Value>) {
        let mut message = Vec::new();
        Value::Struct(tag, fields).write(&mut message);
        self.chunked(&message);
    }

    /// Appends an encoded message, in chunks, to what goes out next.
    fn chunked(&mut self, message: &[u8]) {
        for chunk in message.chunks(MOST_IN_A_CHUNK) {
            self.out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
            self.out.extend_from_slice(chunk);
        }
        self.out.extend_from_slice(&[0, 0]);
    }

    fn extra(&self) -> Value {
        match &self.database {
            Some(db) => Value::Map(vec![("db".into(), db.as_str().into())]),
            None => Value::Map(Vec::new()),
        }
    }

    fn run(&mut self, q: &Query, extra: Value) {
        // Encoded from the query's parameters in place: a batch's can be
        // megabytes, and are not copied for each try.
        // A structure of three fields: the text, the parameters, the extra.
        let mut message = vec![0xB3, RUN];
        packstream::write_str(&q.text, &mut message);
        packstream::write_map(&q.params, &mut message);
        extra.write(&mut message);
        self.chunked(&message);
        self.request(PULL, vec![Value::Map(vec![("n".into(), Value::Int(-1))])]);
    }

    async fn send(&mut self) -> Result<(), Error> {
        let out = std::mem::take(&mut self.out);
        let stream = self.stream.get_mut();
        stream.write_all(&out).await?;
        stream.flush().await?;
        Ok(())
    }

    /// Reads one message, joining its chunks (and skipping the empty
    /// chunks a server sends to keep an idle connection alive).
    async fn answer(&mut self) -> Result<Answer, Error> {
        let mut message = Vec::new();
        loop {
            let size = usize::from(self.stream.read_u16().await?);
            if size == 0 {
                if message.is_empty() {
                    continue;
                }
                break;
            }
            if message.len() + size > MOST_IN_A_MESSAGE {
                return Err(Error::Protocol("a message from the server is larger than 256 MiB".into()));
            }
            let start = message.len();
            message.resize(start + size, 0);
            self.stream.read_exact(&mut message[start..]).await?;
        }
        let mut input = message.as_slice();
        let Value::Struct(tag, mut fields) = Value::read(&mut input)? else {
            return Err(Error::Protocol("a message is not a structure".into()));
        };
        let first = if fields.is_empty() { Value::Null } else { fields.swap_remove(0) };
        Ok(match tag {
            SUCCESS => Answer::Success(first),
            RECORD => match first {
                Value::List(values) => Answer::Record(values),
                _ => return Err(Error::Protocol("a record is not a list".into())),
            },
            IGNORED => Answer::Ignored,
            FAILURE => {
                let text = |name: &str| match first.field(name) {
                    Some(Value::String(s)) => s.clone(),
                    _ => String::new(),
                };
                Answer::Failure { code: text("code"), message: text("message") }
            }
            other => return Err(Error::Protocol(format!("an unknown message {other:#04x}"))),
        })
    }

    /// The answer to a request whose answer is one SUCCESS.
    async fn success(&mut self) -> Result<Value, Error> {
        match self.answer().await? {
            Answer::Success(meta) => Ok(meta),
            Answer::Failure { code, message } => Err(Error::Failure { code, message }),
            Answer::Ignored => Err(Error::Ignored),
            Answer::Record(_) => Err(Error::Protocol("a record where none was asked for".into())),
        }
    }

    /// Reads a `RUN` and its `PULL`: the columns, then each record handed
    /// to `f`, then the summary.
    async fn records(&mut self, f: &mut (dyn FnMut(Row) -> Result<(), Error> + Send)) -> Result<(), Error> {
        let meta = self.success().await;
        let columns: std::sync::Arc<[String]> = match &meta {
            Ok(meta) => match meta.field("fields") {
                Some(Value::List(names)) => names
                    .iter()
                    .map(|n| match n {
                        Value::String(s) => Ok(s.clone()),
                        _ => Err(Error::Protocol("a column name is not a string".into())),
                    })
                    .collect::<Result<Vec<_>, _>>()?
                    .into(),
                _ => std::sync::Arc::from([]),
            },
            Err(_) => std::sync::Arc::from([]),
        };
        // The PULL is answered (ignored) even when the RUN failed.
        let outcome = meta.map(drop);
        loop {
            match self.answer().await? {
                Answer::Record(values) => {
                    if outcome.is_ok() {
                        // An error of `f` stops the reading: the rest of
                        // the records are unread, and this connection is
                        // not used again.
                        f(Row { columns: columns.clone(), values })?;
                    }
                }
                Answer::Success(_) => return outcome,
                Answer::Ignored => return outcome.and(Err(Error::Ignored)),
                Answer::Failure { code, message } => return outcome.and(Err(Error::Failure { code, message })),
            }
        }
    }

    /// Runs one statement on its own (auto-commit), each row to `f`.
    pub(crate) async fn execute(
        &mut self,
        q: &Query,
        f: &mut (dyn FnMut(Row) -> Result<(), Error> + Send),
    ) -> Result<(), Error> {
        let extra = self.extra();
        self.run(q, extra);
        self.send().await?;
        let outcome = self.records(f).await;
        self.after(outcome).await
    }

    /// Runs the statements in one transaction, all sent at once, and
    /// returns the last one's rows.
    pub(crate) async fn transaction(&mut self, queries: &[Query]) -> Result<Vec<Row>, Error> {
        let extra = self.extra();
        self.request(BEGIN, vec![extra]);
        for q in queries {
            self.run(q, Value::Map(Vec::new()));
        }
        self.request(COMMIT, Vec::new());
        self.send().await?;
        let mut outcome = self.success().await.map(drop);
        let mut rows = Vec::new();
        for _ in queries {
            rows.clear();
            let read = self
                .records(&mut |row| {
                    rows.push(row);
                    Ok(())
                })
                .await;
            outcome = outcome.and(read);
        }
        // A failure leaves the COMMIT ignored: the transaction is rolled back.
        let committed = self.success().await.map(drop);
        self.after(outcome.and(committed)).await?;
        Ok(rows)
    }

    /// After a failure the server ignores every request until a RESET; the
    /// connection is reset here so that it can be used again, and the
    /// failure (not the ignoring that followed it) is returned.
    async fn after(&mut self, outcome: Result<(), Error>) -> Result<(), Error> {
        match outcome {
            Err(e @ (Error::Failure { .. } | Error::Ignored)) => {
                self.request(RESET, Vec::new());
                self.send().await?;
                // Answers to requests already sent come before the RESET's.
                loop {
                    match self.answer().await? {
                        Answer::Success(_) => return Err(e),
                        Answer::Failure { code, message } => {
                            return Err(Error::Protocol(format!("RESET failed: {code}: {message}")));
                        }
                        Answer::Ignored | Answer::Record(_) => {}
                    }
                }
            }
            other => other,
        }
    }

    /// Says goodbye before the socket closes.
    pub(crate) async fn close(mut self) {
        self.request(GOODBYE, Vec::new());
        let _ = self.send().await;
    }
}
