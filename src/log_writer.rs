//! Where log lines go: every thread appends its finished line to one
//! buffer, and a thread of its own writes what has gathered with one system
//! call, so a request never waits on the terminal or a log collector's
//! pipe. Nothing is dropped: past [`LIMIT`] bytes waiting, a line waits for
//! room. A line costs its copy into the buffer (no allocation, no channel);
//! the writer is woken only when it sleeps with nothing to write. After a
//! write it lets lines gather for [`GATHER`] before it looks again, so under
//! a flood of requests no line pays for waking it (a wake per line was 2 %
//! of a webhook flood's CPU, in the kernel).

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Bytes waiting past which a new line waits until the writer catches up.
const LIMIT: usize = 8 << 20;

/// How long the writer lets lines gather after a write: a line is on its
/// way out at most this long after the one before it.
const GATHER: std::time::Duration = std::time::Duration::from_millis(1);

struct State {
    waiting: Vec<u8>,
    /// The writer sleeps until a line comes (or the log is closed).
    idle: bool,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    /// A line came, or the log was closed.
    lines: Condvar,
    /// The writer took what waited: there is room again.
    room: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Hands out [`Line`]s to the log's formatter (a `MakeWriter`).
#[derive(Clone)]
pub struct LogWriter {
    shared: Arc<Shared>,
}

/// Stops the writer thread when dropped, after everything waiting is written.
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Starts the thread that writes to `out`.
pub fn start(out: impl Write + Send + 'static) -> std::io::Result<(LogWriter, LogGuard)> {
    let shared = Arc::new(Shared {
        state: Mutex::new(State { waiting: Vec::with_capacity(64 * 1024), idle: false, closed: false }),
        lines: Condvar::new(),
        room: Condvar::new(),
    });
    let writer = shared.clone();
    let thread = std::thread::Builder::new().name("switchboard-log".into()).spawn(move || write_out(&writer, out))?;
    Ok((LogWriter { shared: shared.clone() }, LogGuard { shared, thread: Some(thread) }))
}

/// The writer thread: takes everything waiting, writes it, until closed.
fn write_out(shared: &Shared, mut out: impl Write) {
    let mut taken = Vec::with_capacity(64 * 1024);
    loop {
        let mut state = shared.lock();
        while state.waiting.is_empty() && !state.closed {
            state.idle = true;
            state = shared.lines.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.idle = false;
        let last = state.closed;
        std::mem::swap(&mut state.waiting, &mut taken);
        drop(state);
        shared.room.notify_all();
        // A log that cannot be written (a closed pipe) has nowhere to say so.
        let _ = out.write_all(&taken).and_then(|()| out.flush());
        taken.clear();
        if last && shared.lock().waiting.is_empty() {
            return;
        }
        if !last {
            std::thread::sleep(GATHER);
        }
    }
}

/// One line being written (the formatter writes a finished line at once).
pub struct Line<'a> {
    shared: &'a Shared,
}

impl Write for Line<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut state = self.shared.lock();
        while state.waiting.len() >= LIMIT && !state.closed {
            state = self.shared.room.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.waiting.extend_from_slice(bytes);
        let wake = std::mem::take(&mut state.idle);
        drop(state);
        if wake {
            self.shared.lines.notify_one();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        Line { shared: &self.shared }
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.lines.notify_one();
        self.shared.room.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the writer thread wrote, shared with the test.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_from_every_thread_is_written_whole_and_in_each_threads_order() {
        use tracing_subscriber::fmt::MakeWriter;
        let sink = Sink::default();
        let (writer, guard) = start(sink.clone()).expect("the writer starts");
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        let line = format!("thread {t} line {i} {}\n", "x".repeat(i % 300));
                        writer.make_writer().write_all(line.as_bytes()).expect("written");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("the thread ends");
        }
        drop(guard);
        let written = String::from_utf8(sink.0.lock().unwrap().clone()).expect("UTF-8");
        let mut next = [0usize; 4];
        for line in written.lines() {
            let mut words = line.split(' ');
            let t: usize = words.nth(1).unwrap().parse().unwrap();
            let i: usize = words.nth(1).unwrap().parse().unwrap();
            assert_eq!(i, next[t], "thread {t}'s lines in order, none lost");
            assert_eq!(words.next().unwrap_or("").len(), i % 300, "a line whole");
            next[t] += 1;
        }
        assert_eq!(next, [20_000; 4], "every line written before the guard let go");
    }

    #[test]
    fn a_line_written_while_the_writer_is_idle_is_written_without_more_lines() {
        use tracing_subscriber::fmt::MakeWriter;
        let sink = Sink::default();
        let (writer, _guard) = start(sink.clone()).expect("the writer starts");
        std::thread::sleep(std::time::Duration::from_millis(20));
        writer.make_writer().write_all(b"alone\n").expect("written");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while sink.0.lock().unwrap().as_slice() != b"alone\n" {
            assert!(std::time::Instant::now() < deadline, "the idle writer was woken for one line");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}
