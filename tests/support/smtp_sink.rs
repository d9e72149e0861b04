//! A small but real SMTP server for integration tests and benchmarks.
//!
//! [`SmtpSink`] listens on `127.0.0.1` on a random port, speaks enough ESMTP
//! for real clients (lettre, raw sockets, pipelining clients), stores every
//! accepted message in memory and lets tests wait for, inspect and reject
//! mail, or take the whole server down and bring it back on the same port.
//!
//! Only `std`, `tokio` and `mail-parser` are used, so the file can be
//! included from any test crate with `#[path = "..."] mod smtp_sink;` or
//! `mod support;`.
#![allow(dead_code)]

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use mail_parser::{MessageParser, PartType};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

/// The size limit advertised in the EHLO reply (50 MiB).
const MAX_MESSAGE_SIZE: usize = 52_428_800;

/// The multi-line answer to EHLO. STARTTLS and AUTH are deliberately absent.
const EHLO_REPLY: &[u8] =
    b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 52428800\r\n";

/// An in-process SMTP server that records what it receives.
///
/// Create one with [`SmtpSink::start`], point the code under test at
/// [`SmtpSink::url`] (or `127.0.0.1` and [`SmtpSink::port`]), then use
/// [`SmtpSink::wait_for`] / [`SmtpSink::received`] to look at the mail.
/// Dropping the sink shuts the server down.
pub struct SmtpSink {
    port: u16,
    shared: Arc<Shared>,
    server: Mutex<Option<Running>>,
}

/// State shared between the handle and the server tasks.
struct Shared {
    mails: Arc<Mutex<Vec<ReceivedMail>>>,
    /// Number of stored mails; lets waiters sleep instead of polling.
    count: watch::Sender<usize>,
    reply: Mutex<Reply>,
    connections: AtomicUsize,
}

/// A listening server: the accept task and the means to stop it.
struct Running {
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// One message accepted by the sink (only messages answered with
/// [`Reply::Accept`] are recorded).
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    /// Envelope sender from `MAIL FROM`, without angle brackets (empty for `<>`).
    pub mail_from: String,
    /// Envelope recipients from `RCPT TO`, without angle brackets, in order.
    pub rcpt_to: Vec<String>,
    /// The DATA payload, dot-unstuffed, without the final `.\r\n`.
    pub raw: Vec<u8>,
    /// When the end of DATA was received.
    pub received_at: Instant,
}

impl ReceivedMail {
    /// The first header called `name` (case-insensitive), as raw text,
    /// unfolded and trimmed, or `None` if the message has no such header.
    /// Encoded words (RFC 2047) are *not* decoded; see [`Self::subject`].
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers(name).into_iter().next()
    }

    /// Every header called `name` (case-insensitive), in message order, as
    /// raw text, unfolded and trimmed.
    pub fn headers(&self, name: &str) -> Vec<String> {
        let Some(message) = MessageParser::default().parse_headers(&self.raw) else {
            return Vec::new();
        };
        message
            .headers_raw()
            .filter(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| unfold(value))
            .collect()
    }

    /// The decoded `Subject` header.
    pub fn subject(&self) -> Option<String> {
        let message = MessageParser::default().parse_headers(&self.raw)?;
        message.subject().map(str::to_owned)
    }

    /// The `Message-ID` header, without angle brackets.
    pub fn message_id(&self) -> Option<String> {
        let message = MessageParser::default().parse_headers(&self.raw)?;
        message.message_id().map(str::to_owned)
    }

    /// The first `text/plain` body part, transfer- and charset-decoded.
    /// `None` if the message has no plain-text part (an HTML-only message is
    /// not converted).
    pub fn text_body(&self) -> Option<String> {
        let message = MessageParser::default().parse(&self.raw)?;
        let text = message.text_bodies().find_map(|part| match &part.body {
            PartType::Text(text) => Some(text.to_string()),
            _ => None,
        });
        text
    }

    /// The first `text/html` body part, transfer- and charset-decoded.
    /// `None` if the message has no HTML part.
    pub fn html_body(&self) -> Option<String> {
        let message = MessageParser::default().parse(&self.raw)?;
        let html = message.html_bodies().find_map(|part| match &part.body {
            PartType::Html(html) => Some(html.to_string()),
            _ => None,
        });
        html
    }
}

/// What the sink answers to the end of DATA for the next messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `250 2.0.0 queued`; the message is stored.
    Accept,
    /// `451 4.3.0 try again later`; the message is dropped.
    Transient,
    /// `554 5.7.1 rejected`; the message is dropped.
    Permanent,
}

impl SmtpSink {
    /// Binds `127.0.0.1:0` and starts serving. Panics if it cannot bind.
    pub async fn start() -> SmtpSink {
        let listener = bind(0).expect("SmtpSink: cannot bind 127.0.0.1:0");
        let port = listener
            .local_addr()
            .expect("SmtpSink: listener has no local address")
            .port();
        let (count, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            mails: Arc::new(Mutex::new(Vec::new())),
            count,
            reply: Mutex::new(Reply::Accept),
            connections: AtomicUsize::new(0),
        });
        let running = spawn_server(listener, Arc::clone(&shared));
        SmtpSink {
            port,
            shared,
            server: Mutex::new(Some(running)),
        }
    }

    /// The TCP port the sink listens on (stays the same across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// A snapshot of every accepted message, in arrival order.
    pub fn received(&self) -> Vec<ReceivedMail> {
        lock(&self.shared.mails).clone()
    }

    /// How many messages have been accepted so far.
    pub fn count(&self) -> usize {
        lock(&self.shared.mails).len()
    }

    /// Waits until at least `n` messages have been accepted and returns a
    /// snapshot of all of them. Panics if that does not happen within
    /// `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let mut count = self.shared.count.subscribe();
        let waited = tokio::time::timeout(timeout, count.wait_for(|seen| *seen >= n)).await;
        assert!(
            waited.is_ok(),
            "SmtpSink::wait_for: expected at least {n} mail(s) within {timeout:?}, \
             but only {} arrived",
            self.count()
        );
        self.received()
    }

    /// Waits until more than `seen` messages have been accepted, or `timeout` passes;
    /// returns how many there are then (never panics: for loops that check a condition on
    /// each new message).
    pub async fn wait_for_more(&self, seen: usize, timeout: Duration) -> usize {
        let mut count = self.shared.count.subscribe();
        let _ = tokio::time::timeout(timeout, count.wait_for(|n| *n > seen)).await;
        self.count()
    }

    /// Sets the answer to the end of DATA for every following message until
    /// changed again.
    pub fn set_reply(&self, reply: Reply) {
        *lock(&self.shared.reply) = reply;
    }

    /// Stops the server: closes the listener and drops every open
    /// connection. When this returns, new connections are refused. Received
    /// mail is kept. Does nothing if already stopped.
    pub async fn stop(&self) {
        let running = lock(&self.server).take();
        if let Some(running) = running {
            // The accept task may already be gone if it panicked; then the
            // send fails and awaiting it reports the panic, which we ignore.
            let _ = running.shutdown.send(());
            let _ = running.task.await;
        }
    }

    /// Listens again on the same port, keeping what was received. Does
    /// nothing if the sink is running. Panics if the port cannot be bound
    /// again within a few seconds.
    pub async fn restart(&self) {
        if lock(&self.server).is_some() {
            return;
        }
        let mut attempts = 0;
        let listener = loop {
            match bind(self.port) {
                Ok(listener) => break listener,
                Err(_) if attempts < 100 => {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(err) => panic!(
                    "SmtpSink::restart: cannot bind 127.0.0.1:{} again: {err}",
                    self.port
                ),
            }
        };
        let running = spawn_server(listener, Arc::clone(&self.shared));
        let mut server = lock(&self.server);
        if server.is_none() {
            *server = Some(running);
        } else {
            // Lost a race with a concurrent restart: ours is redundant.
            running.task.abort();
        }
    }

    /// How many TCP connections have been accepted since start (across
    /// restarts).
    pub fn connections_accepted(&self) -> usize {
        self.shared.connections.load(Ordering::Relaxed)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(running) = lock(&self.server).take() {
            // Dropping the accept task drops the listener and its JoinSet,
            // which aborts every connection task.
            running.task.abort();
        }
    }
}

/// Locks a mutex, ignoring poisoning (a panicking test must not cascade).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Unfolds a raw header value (RFC 5322 section 2.2.3) and trims it.
fn unfold(value: &str) -> String {
    value
        .replace("\r\n", "")
        .replace('\n', "")
        .trim()
        .to_owned()
}

/// Binds a listener on `127.0.0.1:port` with `SO_REUSEADDR`, so that a
/// restart can take the same port while old connections are in `TIME_WAIT`.
fn bind(port: u16) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    socket.listen(1024)
}

fn spawn_server(listener: TcpListener, shared: Arc<Shared>) -> Running {
    let (shutdown, shutdown_rx) = oneshot::channel();
    let task = tokio::spawn(accept_loop(listener, shared, shutdown_rx));
    Running { shutdown, task }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    shared.connections.fetch_add(1, Ordering::Relaxed);
                    let shared = Arc::clone(&shared);
                    connections.spawn(async move {
                        // I/O errors just end the session, like a real server.
                        let _ = serve(stream, shared).await;
                    });
                }
                // E.g. too many open files: back off briefly, keep serving.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// Writes a reply line (CRLF is appended) into the output buffer.
async fn reply<W: AsyncWrite + Unpin>(writer: &mut BufWriter<W>, line: &str) -> io::Result<()> {
    writer.write_all(line.as_bytes()).await?;
    writer.write_all(b"\r\n").await
}

/// Flushes pending replies if the next read could block, i.e. the input
/// buffer holds no complete line. With pipelining, a batch of commands gets
/// its replies in one write.
async fn flush_if_starved<R: AsyncRead, W: AsyncWrite + Unpin>(
    reader: &BufReader<R>,
    writer: &mut BufWriter<W>,
) -> io::Result<()> {
    if !writer.buffer().is_empty() && !reader.buffer().contains(&b'\n') {
        writer.flush().await?;
    }
    Ok(())
}

/// Extracts the address from `FROM:<addr> params` / `TO:<addr> params`
/// after the given keyword; `None` on a syntax error.
fn parse_path(arg: &str, keyword: &str) -> Option<String> {
    let arg = arg.trim_start();
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    if let Some(inner) = rest.strip_prefix('<') {
        let end = inner.find('>')?;
        Some(inner[..end].to_owned())
    } else {
        let address = rest.split_whitespace().next()?;
        Some(address.to_owned())
    }
}

/// One SMTP session.
async fn serve(stream: TcpStream, shared: Arc<Shared>) -> io::Result<()> {
    // Best effort: replies are small and must not wait for Nagle.
    let _ = stream.set_nodelay(true);
    let (read_half, write_half) = stream.into_split();
    let mut reader = BufReader::with_capacity(64 * 1024, read_half);
    let mut writer = BufWriter::with_capacity(16 * 1024, write_half);
    reply(&mut writer, "220 sink ESMTP").await?;
    writer.flush().await?;

    let mut line = Vec::with_capacity(512);
    let mut greeted = false;
    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = Vec::new();

    loop {
        flush_if_starved(&reader, &mut writer).await?;
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            writer.flush().await?;
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let command = text.trim_end_matches(['\r', '\n']);
        let (verb, arg) = command.split_once(' ').unwrap_or((command, ""));

        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                greeted = true;
                mail_from = None;
                rcpt_to.clear();
                writer.write_all(EHLO_REPLY).await?;
            }
            "HELO" => {
                greeted = true;
                mail_from = None;
                rcpt_to.clear();
                reply(&mut writer, "250 sink").await?;
            }
            "MAIL" => {
                if !greeted {
                    reply(&mut writer, "503 5.5.1 send EHLO or HELO first").await?;
                } else if mail_from.is_some() {
                    reply(&mut writer, "503 5.5.1 nested MAIL command").await?;
                } else if let Some(address) = parse_path(arg, "FROM:") {
                    mail_from = Some(address);
                    reply(&mut writer, "250 2.1.0 OK").await?;
                } else {
                    reply(&mut writer, "501 5.5.4 syntax: MAIL FROM:<address>").await?;
                }
            }
            "RCPT" => {
                if mail_from.is_none() {
                    reply(&mut writer, "503 5.5.1 need MAIL command").await?;
                } else {
                    match parse_path(arg, "TO:") {
                        Some(address) if !address.is_empty() => {
                            rcpt_to.push(address);
                            reply(&mut writer, "250 2.1.5 OK").await?;
                        }
                        _ => reply(&mut writer, "501 5.5.4 syntax: RCPT TO:<address>").await?,
                    }
                }
            }
            "DATA" => {
                let Some(from) = mail_from.take() else {
                    reply(&mut writer, "503 5.5.1 need MAIL command").await?;
                    continue;
                };
                if rcpt_to.is_empty() {
                    mail_from = Some(from);
                    reply(&mut writer, "503 5.5.1 need RCPT command").await?;
                    continue;
                }
                let recipients = std::mem::take(&mut rcpt_to);
                reply(&mut writer, "354 end data with <CR><LF>.<CR><LF>").await?;

                let mut raw = Vec::with_capacity(4096);
                loop {
                    if !reader.buffer().contains(&b'\n') {
                        // About to wait for the rest of the message.
                        writer.flush().await?;
                    }
                    let start = raw.len();
                    // read_until appends straight into the payload buffer.
                    if reader.read_until(b'\n', &mut raw).await? == 0 {
                        // Connection closed in the middle of DATA: discard.
                        return Ok(());
                    }
                    let data_line = &raw[start..];
                    if data_line == b".\r\n" || data_line == b".\n" {
                        raw.truncate(start);
                        break;
                    }
                    if data_line[0] == b'.' {
                        raw.remove(start);
                    }
                }

                let outcome = *lock(&shared.reply);
                if raw.len() > MAX_MESSAGE_SIZE {
                    reply(&mut writer, "552 5.3.4 message too big").await?;
                    continue;
                }
                match outcome {
                    Reply::Accept => {
                        let mail = ReceivedMail {
                            mail_from: from,
                            rcpt_to: recipients,
                            raw,
                            received_at: Instant::now(),
                        };
                        {
                            let mut mails = lock(&shared.mails);
                            mails.push(mail);
                            shared.count.send_replace(mails.len());
                        }
                        reply(&mut writer, "250 2.0.0 queued").await?;
                    }
                    Reply::Transient => reply(&mut writer, "451 4.3.0 try again later").await?,
                    Reply::Permanent => reply(&mut writer, "554 5.7.1 rejected").await?,
                }
            }
            "RSET" => {
                mail_from = None;
                rcpt_to.clear();
                reply(&mut writer, "250 2.0.0 OK").await?;
            }
            "NOOP" => reply(&mut writer, "250 2.0.0 OK").await?,
            "QUIT" => {
                reply(&mut writer, "221 2.0.0 bye").await?;
                writer.flush().await?;
                let _ = writer.shutdown().await;
                return Ok(());
            }
            _ => reply(&mut writer, "502 5.5.2 command not recognized").await?,
        }
    }
}
