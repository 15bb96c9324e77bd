//! A fast stub npm registry for `scripts/bench`: `whoami`, a paginated token
//! list, token create and delete, each with an optional artificial latency.
//!
//! It is not a behavioural test double (that is `tests/cli/support/mock.rs`);
//! its one job is never to be the bottleneck when whole processes (rtok, npm,
//! curl) are timed against it. So: persistent HTTP/1.1 connections, each
//! served by the thread that accepted it (a sleeping request never delays
//! another connection, and no hand-off between threads delays a new one),
//! pre-serialised token objects, and no framework in the request path.
//!
//! ```text
//! stub_registry [--port 0] [--tokens 100] [--page-size 100] [--latency-ms 0]
//! ```
//!
//! It listens on 127.0.0.1, prints `{"port":N}` on stdout once it accepts
//! connections, and exits when its stdin closes (as `test-registry/start.js`
//! does), so a harness that dies still takes it down.
//!
//! Endpoints (all but `/-/ping` and `/-/bench/*` want
//! `authorization: Bearer <anything>` and answer 401 without it):
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /-/whoami` | `{"username":"bench"}` |
//! | `GET /-/npm/v1/tokens[?page=K][&perPage=M]` | `{"objects":[...],"total":N,"urls":{"next":"<absolute URL or empty>"}}` |
//! | `POST /-/npm/v1/tokens` | 201, the new token object with the full secret |
//! | `DELETE /-/npm/v1/tokens/token/<key>` | 204, or 404 for an unknown key |
//! | `GET /-/ping` | `{}` |
//! | `POST /-/bench/reset` | puts the initial tokens back, zeroes the counters; `{"total":N}` |
//! | `GET /-/bench/stats` | `{"connections":C,"requests":R,"deleted":D,"created":K,"total":N}` |
//!
//! The artificial latency applies to every registry request (not to
//! `/-/bench/*`), after the request is read and before the answer is written.
//! The counters in `stats` count registry requests only, and the connections
//! that carried at least one, so a harness's own control calls do not show.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Request heads larger than this are refused (431).
const MAX_HEAD: usize = 64 * 1024;
/// Request bodies larger than this are refused (413).
const MAX_BODY: usize = 1024 * 1024;
/// The largest `perPage` a client may ask for.
const MAX_PAGE_SIZE: usize = 100_000;
/// Base of the initial tokens' `created` times (2024-01-01T00:00:00Z).
const CREATED_BASE: u64 = 1_704_067_200;

struct Options {
    port: u16,
    tokens: usize,
    page_size: usize,
    latency: Duration,
}

fn usage() -> ! {
    eprintln!(
        "usage: stub_registry [--port 0] [--tokens 100] [--page-size 100] [--latency-ms 0]\n\
         Serves a stub npm registry on 127.0.0.1, prints {{\"port\":N}}, exits when stdin closes."
    );
    std::process::exit(2)
}

fn parse_options() -> Options {
    let mut options = Options {
        port: 0,
        tokens: 100,
        page_size: 100,
        latency: Duration::ZERO,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        if name == "-h" || name == "--help" {
            usage();
        }
        let value = inline.or_else(|| args.next()).unwrap_or_else(|| usage());
        let number = |v: &str| -> u64 {
            v.parse().unwrap_or_else(|_| {
                eprintln!("stub_registry: {name} wants a number, got {v:?}");
                std::process::exit(2)
            })
        };
        match name.as_str() {
            "--port" => options.port = u16::try_from(number(&value)).unwrap_or_else(|_| usage()),
            "--tokens" => options.tokens = number(&value) as usize,
            "--page-size" => options.page_size = (number(&value) as usize).clamp(1, MAX_PAGE_SIZE),
            "--latency-ms" => options.latency = Duration::from_millis(number(&value)),
            _ => usage(),
        }
    }
    options
}

fn main() {
    let options = parse_options();
    let listener = match TcpListener::bind(("127.0.0.1", options.port)) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!(
                "stub_registry: cannot listen on 127.0.0.1:{}: {err}",
                options.port
            );
            std::process::exit(1)
        }
    };
    let port = listener
        .local_addr()
        .map(|a| a.port())
        .unwrap_or(options.port);

    let initial: Vec<Token> = (0..options.tokens).map(Token::initial).collect();
    let server = Arc::new(Server {
        port,
        page_size: options.page_size,
        latency: options.latency,
        tokens: Mutex::new(initial.clone()),
        initial,
        connections: AtomicU64::new(0),
        idle_workers: AtomicUsize::new(0),
        requests: AtomicU64::new(0),
        deleted: AtomicU64::new(0),
        created: AtomicU64::new(0),
    });

    let listener = Arc::new(listener);
    for _ in 0..INITIAL_WORKERS {
        spawn_worker(&server, &listener);
    }

    {
        let mut stdout = io::stdout().lock();
        let _ = writeln!(stdout, "{{\"port\":{port}}}");
        let _ = stdout.flush();
    }

    // The harness holds our stdin open; when it goes away, so do we.
    let mut sink = [0u8; 256];
    let mut stdin = io::stdin();
    loop {
        match stdin.read(&mut sink) {
            Ok(0) | Err(_) => std::process::exit(0),
            Ok(_) => {}
        }
    }
}

/// Workers that wait in `accept` from the start.
const INITIAL_WORKERS: usize = 4;
/// Idle workers beyond this many exit after their connection closes.
const MAX_IDLE_WORKERS: usize = 16;

/// Starts a worker: a thread that accepts a connection and serves it itself,
/// then accepts the next. Serving on the accepting thread saves the wake-up
/// of a second thread per connection (milliseconds on a loaded machine),
/// and a worker that takes the last idle place starts another, so there is
/// no limit on connections at once.
fn spawn_worker(server: &Arc<Server>, listener: &Arc<TcpListener>) {
    let server = Arc::clone(server);
    let listener = Arc::clone(listener);
    // A failed spawn (thread limit) leaves the connection in the backlog
    // until a worker is free.
    let _ = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            loop {
                server.idle_workers.fetch_add(1, Ordering::SeqCst);
                let accepted = listener.accept();
                if server.idle_workers.fetch_sub(1, Ordering::SeqCst) == 1 {
                    spawn_worker(&server, &listener);
                }
                match accepted {
                    Ok((stream, _)) => {
                        let _ = serve(&server, stream);
                    }
                    // Out of file descriptors and the like: back off a
                    // little rather than spin.
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
                if server.idle_workers.load(Ordering::SeqCst) >= MAX_IDLE_WORKERS {
                    return;
                }
            }
        });
}

/// One token as the list shows it: its key, and its JSON object already
/// serialised (a page is then a concatenation, not a serialisation).
#[derive(Clone)]
struct Token {
    key: String,
    json: Arc<[u8]>,
}

impl Token {
    /// The `i`-th initial token: the same key and mask on every run.
    fn initial(i: usize) -> Token {
        let seed = 0x5EED_0000_0000_0000 ^ i as u64;
        let key = hex_key(seed);
        let mask = masked(seed);
        let created = iso8601(CREATED_BASE + i as u64 * 3600);
        Token::new(key, &mask, false, serde_json::Value::Null, &created)
    }

    fn new(
        key: String,
        mask: &str,
        readonly: bool,
        cidr: serde_json::Value,
        created: &str,
    ) -> Token {
        let object = token_object(&key, mask, readonly, cidr, created);
        let json = serde_json::to_vec(&object).expect("a JSON value serialises");
        Token {
            key,
            json: json.into(),
        }
    }
}

/// A token object in npm's classic shape.
fn token_object(
    key: &str,
    token: &str,
    readonly: bool,
    cidr: serde_json::Value,
    created: &str,
) -> serde_json::Value {
    serde_json::json!({
        "key": key,
        "token": token,
        "cidr_whitelist": cidr,
        "readonly": readonly,
        "created": created,
        "updated": created,
    })
}

struct Server {
    port: u16,
    page_size: usize,
    latency: Duration,
    initial: Vec<Token>,
    tokens: Mutex<Vec<Token>>,
    connections: AtomicU64,
    idle_workers: AtomicUsize,
    requests: AtomicU64,
    deleted: AtomicU64,
    created: AtomicU64,
}

/// A parsed request.
struct Request {
    method: String,
    target: String,
    http10: bool,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the connection stays open after this request.
    fn keep_alive(&self) -> bool {
        let connection = self.header("connection").unwrap_or("").to_ascii_lowercase();
        if self.http10 {
            connection.contains("keep-alive")
        } else {
            !connection.contains("close")
        }
    }

    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    fn query(&self, name: &str) -> Option<&str> {
        let (_, query) = self.target.split_once('?')?;
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    fn bearer(&self) -> bool {
        let Some(value) = self.header("authorization") else {
            return false;
        };
        let value = value.trim();
        value.len() > 7
            && value[..7].eq_ignore_ascii_case("bearer ")
            && !value[7..].trim().is_empty()
    }
}

struct Response {
    status: u16,
    body: Vec<u8>,
}

impl Response {
    fn json(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            body: body.into(),
        }
    }

    fn error(status: u16, message: &str) -> Response {
        Response::json(
            status,
            serde_json::to_vec(&serde_json::json!({ "error": message }))
                .expect("a JSON value serialises"),
        )
    }

    fn no_content() -> Response {
        Response {
            status: 204,
            body: Vec::new(),
        }
    }

    fn write(&self, out: &mut impl Write, keep_alive: bool) -> io::Result<()> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        if self.status != 204 {
            head.push_str("content-type: application/json\r\n");
            head.push_str(&format!("content-length: {}\r\n", self.body.len()));
        }
        head.push_str(if keep_alive {
            "connection: keep-alive\r\n\r\n"
        } else {
            "connection: close\r\n\r\n"
        });
        // One write: head and body leave in the same segment when they fit.
        let mut message = head.into_bytes();
        message.extend_from_slice(&self.body);
        out.write_all(&message)?;
        out.flush()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        _ => "Unknown",
    }
}

/// Serves one connection until the client closes it or asks to.
fn serve(server: &Server, stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::with_capacity(16 * 1024, stream);
    let mut counted = false;
    loop {
        let request = match read_request(&mut reader, &mut writer) {
            Ok(Some(request)) => request,
            Ok(None) => return Ok(()),
            Err(RequestError::Io(err)) => return Err(err),
            Err(RequestError::Bad(status, message)) => {
                Response::error(status, message).write(&mut writer, false)?;
                return Ok(());
            }
        };
        let keep_alive = request.keep_alive();
        let control = request.path().starts_with("/-/bench/");
        if !control {
            server.requests.fetch_add(1, Ordering::Relaxed);
            if !counted {
                server.connections.fetch_add(1, Ordering::Relaxed);
                counted = true;
            }
        }
        let response = server.handle(&request);
        if !control && !server.latency.is_zero() {
            std::thread::sleep(server.latency);
        }
        response.write(&mut writer, keep_alive)?;
        if !keep_alive {
            return Ok(());
        }
    }
}

enum RequestError {
    Io(io::Error),
    Bad(u16, &'static str),
}

impl From<io::Error> for RequestError {
    fn from(err: io::Error) -> Self {
        RequestError::Io(err)
    }
}

/// Reads one request; `None` when the client closed the connection between
/// requests.
fn read_request(
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
) -> Result<Option<Request>, RequestError> {
    let mut head_len = 0;
    let mut line = String::new();
    // The request line; blank lines before it are allowed (RFC 9112 2.2).
    let request_line = loop {
        line.clear();
        let n = read_line(reader, &mut line, &mut head_len)?;
        if n == 0 {
            return Ok(None);
        }
        let trimmed = line.trim_end();
        if !trimmed.is_empty() {
            break trimmed.to_owned();
        }
    };
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(RequestError::Bad(400, "malformed request line"));
    };
    let mut request = Request {
        method: method.to_owned(),
        target: target.to_owned(),
        http10: version == "HTTP/1.0",
        headers: Vec::new(),
        body: Vec::new(),
    };
    loop {
        line.clear();
        if read_line(reader, &mut line, &mut head_len)? == 0 {
            return Err(RequestError::Bad(
                400,
                "connection closed inside the request head",
            ));
        }
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        let Some((name, value)) = trimmed.split_once(':') else {
            return Err(RequestError::Bad(400, "malformed header line"));
        };
        request
            .headers
            .push((name.trim().to_owned(), value.trim().to_owned()));
    }

    if request
        .header("expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let chunked = request
        .header("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    if chunked {
        request.body = read_chunked(reader)?;
    } else if let Some(length) = request.header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| RequestError::Bad(400, "bad content-length"))?;
        if length > MAX_BODY {
            return Err(RequestError::Bad(413, "request body too large"));
        }
        request.body = vec![0; length];
        reader.read_exact(&mut request.body)?;
    }
    Ok(Some(request))
}

/// One CRLF-terminated line of the head, counted against `MAX_HEAD`.
fn read_line(
    reader: &mut BufReader<TcpStream>,
    line: &mut String,
    head_len: &mut usize,
) -> Result<usize, RequestError> {
    let limit = (MAX_HEAD - *head_len + 1) as u64;
    let n = reader.by_ref().take(limit).read_line(line)?;
    *head_len += n;
    if *head_len > MAX_HEAD {
        return Err(RequestError::Bad(431, "request head too large"));
    }
    Ok(n)
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Result<Vec<u8>, RequestError> {
    let mut body = Vec::new();
    let mut line = String::new();
    let mut head_len = 0;
    loop {
        line.clear();
        if read_line(reader, &mut line, &mut head_len)? == 0 {
            return Err(RequestError::Bad(
                400,
                "connection closed inside a chunked body",
            ));
        }
        let size = line.trim_end().split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| RequestError::Bad(400, "bad chunk size"))?;
        if size == 0 {
            // Trailers, up to the blank line.
            loop {
                line.clear();
                if read_line(reader, &mut line, &mut head_len)? == 0 || line.trim_end().is_empty() {
                    return Ok(body);
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return Err(RequestError::Bad(413, "request body too large"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf)?;
    }
}

impl Server {
    fn handle(&self, request: &Request) -> Response {
        let path = request.path();
        let method = request.method.as_str();
        match path {
            "/-/ping" => return Response::json(200, "{}"),
            "/-/bench/reset" if method == "POST" => return self.reset(),
            "/-/bench/stats" if method == "GET" => return self.stats(),
            _ => {}
        }
        if !request.bearer() {
            return Response::error(
                401,
                "authentication required: send `authorization: Bearer <token>`",
            );
        }
        match (method, path) {
            ("GET", "/-/whoami") => Response::json(200, r#"{"username":"bench"}"#),
            ("GET", "/-/npm/v1/tokens") => self.list(request),
            ("POST", "/-/npm/v1/tokens") => self.create(request),
            ("DELETE", _) if path.starts_with("/-/npm/v1/tokens/token/") => {
                self.delete(&path["/-/npm/v1/tokens/token/".len()..])
            }
            (_, "/-/whoami" | "/-/npm/v1/tokens") => Response::error(405, "method not allowed"),
            _ => Response::error(404, "not found"),
        }
    }

    fn list(&self, request: &Request) -> Response {
        let page: usize = request
            .query("page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let per_page = request
            .query("perPage")
            .and_then(|p| p.parse().ok())
            .map_or(self.page_size, |p: usize| p.clamp(1, MAX_PAGE_SIZE));
        // Copy the page's (shared) objects out so the lock is short.
        let (objects, total) = {
            let tokens = self.tokens.lock().expect("token list lock");
            let start = page.saturating_mul(per_page).min(tokens.len());
            let end = start.saturating_add(per_page).min(tokens.len());
            let objects: Vec<Arc<[u8]>> = tokens[start..end]
                .iter()
                .map(|t| Arc::clone(&t.json))
                .collect();
            (objects, tokens.len())
        };
        let next = if (page + 1).saturating_mul(per_page) < total {
            let host = request
                .header("host")
                .filter(|h| !h.is_empty())
                .map_or_else(|| format!("127.0.0.1:{}", self.port), str::to_owned);
            let per_page_param = if per_page == self.page_size {
                String::new()
            } else {
                format!("&perPage={per_page}")
            };
            format!(
                "http://{host}/-/npm/v1/tokens?page={}{per_page_param}",
                page + 1
            )
        } else {
            String::new()
        };
        let next = serde_json::to_string(&next).expect("a string serialises");

        let size: usize = objects.iter().map(|o| o.len() + 1).sum();
        let mut body = Vec::with_capacity(size + next.len() + 64);
        body.extend_from_slice(b"{\"objects\":[");
        for (i, object) in objects.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(object);
        }
        body.extend_from_slice(
            format!("],\"total\":{total},\"urls\":{{\"next\":{next}}}}}").as_bytes(),
        );
        Response::json(200, body)
    }

    fn create(&self, request: &Request) -> Response {
        let fields: serde_json::Value = if request.body.is_empty() {
            serde_json::json!({})
        } else {
            match serde_json::from_slice(&request.body) {
                Ok(v) => v,
                Err(_) => return Response::error(400, "the body is not JSON"),
            }
        };
        let readonly = fields
            .get("readonly")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let cidr = fields
            .get("cidr_whitelist")
            .or_else(|| fields.get("cidr"))
            .filter(|v| v.is_array())
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        let n = self.created.fetch_add(1, Ordering::Relaxed);
        let seed = random_seed() ^ n;
        let key = hex_key(seed);
        let secret = format!("npm_{}", base62(seed, 36));
        let mask = format!("{}...{}", &secret[..8], &secret[secret.len() - 4..]);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(CREATED_BASE, |d| d.as_secs());
        let created = iso8601(now);
        let token = Token::new(key.clone(), &mask, readonly, cidr.clone(), &created);
        self.tokens.lock().expect("token list lock").push(token);
        let object = token_object(&key, &secret, readonly, cidr, &created);
        Response::json(
            201,
            serde_json::to_vec(&object).expect("a JSON value serialises"),
        )
    }

    fn delete(&self, key: &str) -> Response {
        let mut tokens = self.tokens.lock().expect("token list lock");
        match tokens.iter().position(|t| t.key == key) {
            Some(index) => {
                tokens.remove(index);
                self.deleted.fetch_add(1, Ordering::Relaxed);
                Response::no_content()
            }
            None => Response::error(404, "no such token"),
        }
    }

    fn reset(&self) -> Response {
        let mut tokens = self.tokens.lock().expect("token list lock");
        tokens.clone_from(&self.initial);
        for counter in [
            &self.connections,
            &self.requests,
            &self.deleted,
            &self.created,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        Response::json(200, format!("{{\"total\":{}}}", tokens.len()))
    }

    fn stats(&self) -> Response {
        let total = self.tokens.lock().expect("token list lock").len();
        Response::json(
            200,
            format!(
                "{{\"connections\":{},\"requests\":{},\"deleted\":{},\"created\":{},\"total\":{total}}}",
                self.connections.load(Ordering::Relaxed),
                self.requests.load(Ordering::Relaxed),
                self.deleted.load(Ordering::Relaxed),
                self.created.load(Ordering::Relaxed),
            ),
        )
    }
}

/// SplitMix64: a well-mixed 64-bit value from a seed (deterministic keys).
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 32 lowercase hex characters, like a classic npm token key.
fn hex_key(seed: u64) -> String {
    format!(
        "{:016x}{:016x}",
        mix(seed),
        mix(seed ^ 0xA5A5_A5A5_A5A5_A5A5)
    )
}

fn base62(seed: u64, len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = mix(state);
            ALPHABET[(state % 62) as usize] as char
        })
        .collect()
}

/// A listed token as npmjs masks it: `npm_aBcD...7890`.
fn masked(seed: u64) -> String {
    let secret = base62(seed, 36);
    format!("npm_{}...{}", &secret[..4], &secret[32..])
}

/// A value that differs per process and per call (new tokens' keys).
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SS.000Z`.
fn iso8601(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
