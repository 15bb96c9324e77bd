//! Turning what came back (or did not) into a `RegistryError`: statuses and
//! their challenges, transport failures, bodies that are not what was asked.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use super::{Auth, Call};
use crate::config::origin::Origin;
use crate::display::{one_line, redact};
use crate::registry::error::{Challenge, Problem, Request, WebAuth, status_text};
use crate::secret::Secret;

/// A non-2xx answer, as the problem it reports.
pub(super) fn status_problem(
    call: &Call<'_>,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    secrets: &[&Secret],
    credential_origin: Option<Origin>,
) -> Problem {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let detail = detail(parsed.as_ref(), body, secrets);
    if status.is_client_error() && names_stage_required(parsed.as_ref(), body) {
        return Problem::StageRequired { status, detail };
    }
    if status != StatusCode::UNAUTHORIZED {
        return Problem::Status { status, detail };
    }
    let challenges = challenges(headers);
    if challenges.iter().any(|c| c == "ipaddress") {
        return Problem::IpNotAllowed;
    }
    let says_otp = challenges.iter().any(|c| c == "otp")
        || (challenges.is_empty()
            && String::from_utf8_lossy(body)
                .to_ascii_lowercase()
                .contains("one-time pass"));
    if says_otp {
        let web = match parsed.as_ref().map(web_auth) {
            Some(Err(problem)) => return Problem::InvalidResponse(problem),
            Some(Ok(web)) => web,
            None => None,
        };
        return Problem::OtpRequired {
            otp_sent: call.otp.is_some(),
            web,
        };
    }
    let offers = |scheme: &str| challenges.iter().any(|c| c.starts_with(scheme));
    let challenge = if offers("basic") && matches!(call.auth, Auth::Basic { .. }) {
        Challenge::Basic
    } else if offers("bearer") {
        Challenge::Bearer
    } else if offers("basic") {
        Challenge::Basic
    } else {
        Challenge::Other
    };
    Problem::Unauthorized {
        status,
        detail,
        challenge,
        credential_origin,
    }
}

/// Whether a refusal names `E_STAGE_REQUIRED` (its exact shape is
/// undocumented): in the JSON `code`, `error` or `message`, or anywhere in
/// a body that is not JSON.
fn names_stage_required(parsed: Option<&serde_json::Value>, body: &[u8]) -> bool {
    const CODE: &str = "E_STAGE_REQUIRED";
    match parsed {
        Some(value) => ["code", "error", "message"].iter().any(|field| {
            value
                .get(*field)
                .and_then(serde_json::Value::as_str)
                .is_some_and(|text| text.to_ascii_uppercase().contains(CODE))
        }),
        None => String::from_utf8_lossy(body).contains(CODE),
    }
}

/// The web one-time-password challenge of a 401's body: `authUrl` and
/// `doneUrl`, both http(s) URLs (as npm's `open-url` insists), or what is
/// wrong with them. Only http(s) URLs reach the browser command and
/// the terminal, and those always start with their scheme, never with `-`.
fn web_auth(body: &serde_json::Value) -> Result<Option<WebAuth>, String> {
    let field = |name: &str| body.get(name).and_then(serde_json::Value::as_str);
    let (Some(auth_url), Some(done_url)) = (field("authUrl"), field("doneUrl")) else {
        return Ok(None);
    };
    let web_url = |text: &str, name: &str| {
        url::Url::parse(text)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https"))
            .ok_or_else(|| {
                format!("the one-time password challenge's `{name}` is not an http(s) URL")
            })
    };
    Ok(Some(WebAuth {
        auth_url: web_url(auth_url, "authUrl")?,
        done_url: web_url(done_url, "doneUrl")?,
    }))
}

/// The `www-authenticate` challenges, lower-cased, one per comma.
fn challenges(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| {
            v.split(',')
                .map(|p| p.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A request that got no (complete) answer, as the problem it reports.
pub(super) fn transport_problem(
    err: &reqwest::Error,
    reading: bool,
    timeout: Option<std::time::Duration>,
) -> Problem {
    if err.is_timeout() {
        return Problem::Timeout {
            after: timeout.map_or_else(|| "the timeout".into(), describe_duration),
        };
    }
    let cause = root_cause(err);
    if is_tls_failure(err) {
        return Problem::TlsHandshake { reason: cause };
    }
    let reason = if reading {
        "the connection broke while reading the response".to_string()
    } else if err.is_connect() {
        format!("could not connect ({cause})")
    } else {
        format!("request failed ({cause})")
    };
    Problem::Connect { reason }
}

/// Parses a JSON reply, or says what was wrong with it.
pub(crate) fn parse_json(
    request: &Request,
    status: StatusCode,
    body: &[u8],
) -> Result<serde_json::Value, crate::registry::RegistryError> {
    serde_json::from_slice(body).map_err(|_| {
        crate::registry::RegistryError::failed(
            request.clone(),
            Problem::InvalidResponse(format!(
                "{} but the body is not JSON{}",
                status_text(status),
                body_excerpt(body, &[])
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            )),
        )
    })
}

/// The `: <what the registry said>` tail of an error message (the status
/// itself, `404 Not Found`, comes before it): the registry's
/// `error`/`message` field or the first words of a non-JSON body, secrets
/// redacted.
fn detail(parsed: Option<&serde_json::Value>, body: &[u8], secrets: &[&Secret]) -> String {
    let said = match parsed {
        Some(value) => ["error", "message", "reason"]
            .iter()
            .find_map(|field| value.get(*field).and_then(|v| v.as_str()))
            .map(|text| one_line(&redact(text, secrets), 160)),
        None => body_excerpt(body, secrets),
    };
    match said.filter(|s| !s.is_empty()) {
        Some(said) => format!(": {said}"),
        None => String::new(),
    }
}

/// The first words of a body that is not JSON, on one line: HTML tags
/// dropped, whitespace collapsed, control characters removed.
fn body_excerpt(body: &[u8], secrets: &[&Secret]) -> Option<String> {
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    let mut plain = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                plain.push(' ');
            }
            _ if in_tag => {}
            _ => plain.push(c),
        }
    }
    let excerpt = one_line(&redact(&plain, secrets), 100);
    (!excerpt.is_empty()).then_some(excerpt)
}

/// `500 ms`, `30 s`, `5 min`: a duration as a message shows it.
fn describe_duration(duration: std::time::Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(60_000) {
        format!("{} min", ms / 60_000)
    } else {
        format!("{:.1} s", duration.as_secs_f64()).replace(".0 s", " s")
    }
}

pub(super) fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut source: &dyn std::error::Error = err;
    while let Some(next) = source.source() {
        source = next;
    }
    one_line(&source.to_string(), 160)
}

/// Whether the failure happened in the TLS handshake: an untrusted or
/// invalid certificate, or a client certificate the server wanted.
fn is_tls_failure(err: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if current.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        // Connectors wrap the handshake error in their own types; its text
        // is what stays recognisable.
        let text = current.to_string().to_ascii_lowercase();
        if text.contains("certificate") || text.contains("tls handshake") {
            return true;
        }
        // io::Error hides its payload from `source()`: look inside.
        if let Some(inner) = current
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && inner.downcast_ref::<rustls::Error>().is_some()
        {
            return true;
        }
        source = current.source();
    }
    false
}

/// Whether a transport failure may go away on its own (a refused or reset
/// connection, a connection closed mid-answer), as opposed to one that will
/// fail the same way again (a bad certificate, an unknown host, a timeout
/// that already took `fetch-timeout`).
pub(super) fn is_transient(err: &reqwest::Error) -> bool {
    use std::io::ErrorKind;
    if err.is_timeout() {
        return false;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                ErrorKind::ConnectionRefused
                    | ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
                    | ErrorKind::NotConnected
            )
        {
            return true;
        }
        let text = current.to_string();
        if text.contains("certificate") || text.contains("tls") || text.contains("dns error") {
            return false;
        }
        if text.contains("connection closed before message completed")
            || text.contains("connection reset")
        {
            return true;
        }
        source = current.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_excerpt_is_one_short_line() {
        let html = b"<!DOCTYPE html>\n<html><body><pre>Cannot POST /-/v1/login</pre></body></html>";
        assert_eq!(
            body_excerpt(html, &[]).as_deref(),
            Some("Cannot POST /-/v1/login")
        );
        let long = "word ".repeat(100);
        assert!(
            body_excerpt(long.as_bytes(), &[])
                .expect("excerpt")
                .ends_with("...")
        );
        let secret = Secret::new("s3cr3t-token");
        assert_eq!(
            body_excerpt(b"bad token s3cr3t-token", &[&secret]).as_deref(),
            Some("bad token ***")
        );
    }

    #[test]
    fn durations_read_naturally() {
        use std::time::Duration;
        assert_eq!(describe_duration(Duration::from_millis(500)), "500 ms");
        assert_eq!(describe_duration(Duration::from_secs(30)), "30 s");
        assert_eq!(describe_duration(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(describe_duration(Duration::from_secs(300)), "5 min");
    }
}
