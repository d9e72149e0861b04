//! How a claimed outbox row leaves the building: over SMTP, into `.eml` files, or (unit
//! tests only) into memory.
//!
//! SMTP connections are opened by us so `TCP_NODELAY` can be set: lettre writes the end of
//! DATA in a separate small segment, and with Nagle's algorithm on, each message waits for
//! the server's delayed ACK (~40 ms), capping a connection near 23 messages/s.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::Message;
use tokio::sync::Mutex;

use crate::config::{MailSettings, MailTransportKind};
use crate::mail::outbox::OutboxRow;
use crate::mail::stored_headers;

/// Why a delivery attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth retrying: a 4xx answer, a connection or timeout error.
    Transient(String),
    /// Never worth retrying: a 5xx answer, or a message that cannot be built.
    Permanent(String),
}

pub enum Transport {
    Smtp(SmtpPool),
    File(PathBuf),
    #[cfg(test)]
    Memory(std::sync::Mutex<Vec<Vec<u8>>>),
}

impl Transport {
    pub fn from_settings(settings: &MailSettings) -> anyhow::Result<Transport> {
        match settings.transport {
            MailTransportKind::File => {
                let dir = crate::config::absolute(&settings.file_dir);
                std::fs::create_dir_all(&dir).map_err(|e| {
                    anyhow::anyhow!("cannot create mail.file_dir {}: {e}", dir.display())
                })?;
                Ok(Transport::File(dir))
            }
            MailTransportKind::Smtp => {
                let url = settings.smtp_url.as_ref().ok_or_else(|| {
                    anyhow::anyhow!("mail.smtp_url is required for the smtp transport")
                })?;
                Ok(Transport::Smtp(SmtpPool::new(
                    SmtpTarget::parse(url.expose())?,
                    Duration::from_secs(settings.smtp_timeout_seconds.max(1)),
                )))
            }
        }
    }

    /// Delivers one built message.
    pub async fn send(&self, envelope: &Envelope, bytes: &[u8], id: &str) -> Result<(), SendError> {
        match self {
            Transport::Smtp(pool) => pool.send(envelope, bytes).await,
            Transport::File(dir) => {
                let final_path = dir.join(format!("{id}.eml"));
                let tmp_path = dir.join(format!(".{id}.eml.tmp"));
                let bytes = bytes.to_vec();
                tokio::task::spawn_blocking(move || {
                    std::fs::write(&tmp_path, &bytes)?;
                    std::fs::rename(&tmp_path, &final_path)
                })
                .await
                .map_err(|e| SendError::Transient(format!("file write task failed: {e}")))?
                .map_err(|e| SendError::Transient(format!("cannot write .eml file: {e}")))
            }
            #[cfg(test)]
            Transport::Memory(sent) => {
                sent.lock()
                    .map_err(|_| SendError::Transient("poisoned".into()))?
                    .push(bytes.to_vec());
                Ok(())
            }
        }
    }
}

/// The files the `file` transport writes for these outbox emails (`<id>.eml`, and the
/// temporary file of one being written), for an erasure to delete; none with SMTP. Ids are
/// the service's own, never a path.
pub fn stored_copies(settings: &MailSettings, ids: &[String]) -> Vec<PathBuf> {
    if settings.transport != MailTransportKind::File {
        return Vec::new();
    }
    let dir = crate::config::absolute(&settings.file_dir);
    ids.iter()
        .filter(|id| {
            !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .flat_map(|id| {
            [
                dir.join(format!("{id}.eml")),
                dir.join(format!(".{id}.eml.tmp")),
            ]
        })
        .collect()
}

/// Builds the MIME message for a row: text and HTML alternatives, the row's fixed
/// `Message-ID`, and its extra headers.
pub fn build_message(row: &OutboxRow, from: &Mailbox) -> Result<Message, SendError> {
    let permanent =
        |what: &str, e: &dyn std::fmt::Display| SendError::Permanent(format!("{what}: {e}"));
    let to = Mailbox::new(
        row.to_name.clone(),
        row.to_addr
            .parse()
            .map_err(|e| permanent("bad recipient address", &e))?,
    );
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(row.subject.clone())
        .message_id(Some(row.message_id.clone()));
    if let Some(reply_to) = &row.reply_to {
        builder = builder.reply_to(
            reply_to
                .parse()
                .map_err(|e| permanent("bad reply-to", &e))?,
        );
    }
    for (header, value) in stored_headers(&row.headers) {
        builder = builder.raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str(header.name()),
            value,
        ));
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            row.body_text.clone(),
            row.body_html.clone(),
        ))
        .map_err(|e| permanent("cannot build message", &e))
}

/// Where and how to reach the SMTP server.
#[derive(Debug, Clone)]
pub struct SmtpTarget {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    /// `smtp://`: STARTTLS when the server offers it.
    Opportunistic,
    /// `smtp://…?tls=required`: STARTTLS or fail.
    StartTlsRequired,
    /// `smtps://`: TLS from the first byte.
    Implicit,
}

impl SmtpTarget {
    pub fn parse(url: &str) -> anyhow::Result<SmtpTarget> {
        let parsed = url::Url::parse(url).map_err(|e| anyhow::anyhow!("mail.smtp_url: {e}"))?;
        let host = parsed
            .host_str()
            .ok_or_else(|| anyhow::anyhow!("mail.smtp_url: no host"))?
            .to_string();
        let tls_required = parsed
            .query_pairs()
            .any(|(k, v)| k == "tls" && v == "required");
        let (security, default_port) = match parsed.scheme() {
            "smtp" if tls_required => (Security::StartTlsRequired, 587),
            "smtp" => (Security::Opportunistic, 25),
            "smtps" => (Security::Implicit, 465),
            other => anyhow::bail!("mail.smtp_url: scheme must be smtp or smtps, not {other}"),
        };
        let credentials = (!parsed.username().is_empty()).then(|| {
            Credentials::new(
                percent_decode(parsed.username()),
                percent_decode(parsed.password().unwrap_or("")),
            )
        });
        Ok(SmtpTarget {
            host,
            port: parsed.port().unwrap_or(default_port),
            security,
            credentials,
        })
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Idle SMTP connections, reused across messages. The worker bounds how many are in use.
pub struct SmtpPool {
    target: SmtpTarget,
    timeout: Duration,
    hello: ClientId,
    idle: Mutex<Vec<AsyncSmtpConnection>>,
}

impl SmtpPool {
    pub fn new(target: SmtpTarget, timeout: Duration) -> Self {
        SmtpPool {
            target,
            timeout,
            hello: ClientId::default(),
            idle: Mutex::new(Vec::new()),
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let t = &self.target;
        let mut conn = match t.security {
            Security::Implicit => {
                let tls = TlsParameters::new(t.host.clone()).map_err(classify)?;
                AsyncSmtpConnection::connect_tokio1(
                    (t.host.as_str(), t.port),
                    Some(self.timeout),
                    &self.hello,
                    Some(tls),
                    None,
                )
                .await
                .map_err(classify)?
            }
            Security::Opportunistic | Security::StartTlsRequired => {
                let stream = tokio::net::TcpStream::connect((t.host.as_str(), t.port))
                    .await
                    .map_err(|e| {
                        SendError::Transient(format!("cannot connect to the SMTP server: {e}"))
                    })?;
                stream
                    .set_nodelay(true)
                    .map_err(|e| SendError::Transient(format!("cannot set TCP_NODELAY: {e}")))?;
                let mut conn =
                    AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello)
                        .await
                        .map_err(classify)?;
                if conn.can_starttls() {
                    let tls = TlsParameters::new(t.host.clone()).map_err(classify)?;
                    conn.starttls(tls, &self.hello).await.map_err(classify)?;
                } else if t.security == Security::StartTlsRequired {
                    return Err(SendError::Transient(
                        "the server does not offer STARTTLS and mail.smtp_url requires it".into(),
                    ));
                }
                conn
            }
        };
        if let Some(credentials) = &t.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(classify)?;
        }
        Ok(conn)
    }

    async fn send(&self, envelope: &Envelope, bytes: &[u8]) -> Result<(), SendError> {
        let reused = self.idle.lock().await.pop();
        let mut conn = match reused {
            Some(conn) => conn,
            None => tokio::time::timeout(self.timeout, self.connect())
                .await
                .map_err(|_| {
                    SendError::Transient("timed out connecting to the SMTP server".into())
                })??,
        };
        match tokio::time::timeout(self.timeout, conn.send(envelope, bytes)).await {
            Ok(Ok(_)) => {
                self.idle.lock().await.push(conn);
                Ok(())
            }
            Ok(Err(e)) => {
                // A refused message leaves a usable connection; anything else drops it.
                if e.is_response() && !conn.has_broken() {
                    self.idle.lock().await.push(conn);
                }
                Err(classify(e))
            }
            Err(_) => Err(SendError::Transient(
                "timed out talking to the SMTP server".into(),
            )),
        }
    }
}

fn classify(e: lettre::transport::smtp::Error) -> SendError {
    if e.is_permanent() {
        SendError::Permanent(e.to_string())
    } else {
        SendError::Transient(e.to_string())
    }
}

/// Shared transport handle.
pub type SharedTransport = Arc<Transport>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_smtp_urls() {
        let t = SmtpTarget::parse("smtp://127.0.0.1:2525").expect("valid");
        assert_eq!(
            (t.host.as_str(), t.port, t.security),
            ("127.0.0.1", 2525, Security::Opportunistic)
        );
        assert!(t.credentials.is_none());
        let t = SmtpTarget::parse("smtps://user%40x:p%3Ass@mail.example.org").expect("valid");
        assert_eq!((t.port, t.security), (465, Security::Implicit));
        assert!(t.credentials.is_some());
        let t = SmtpTarget::parse("smtp://mail.example.org?tls=required").expect("valid");
        assert_eq!((t.port, t.security), (587, Security::StartTlsRequired));
        assert!(SmtpTarget::parse("http://x").is_err());
        assert_eq!(percent_decode("p%3Ass"), "p:ss");
    }
}
