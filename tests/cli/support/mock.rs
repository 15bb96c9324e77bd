//! An in-process HTTP/1.1 mock registry for what Verdaccio cannot do: OTP
//! challenges, pagination, 5xx, malformed JSON or HTTP, redirects, slow and
//! truncated bodies. Plain `std::net` and one thread per connection; it
//! records every request it receives.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

type Handler = dyn Fn(&Request) -> Reply + Send + Sync + 'static;

/// A request as the mock received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query exactly as sent in the request line.
    pub path: String,
    /// Header names lower-cased, values as sent, in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked if it came chunked.
    pub body: Vec<u8>,
    /// "HTTP/1.1" or "HTTP/1.0", from the request line.
    pub version: String,
    /// Which TCP connection it came on (0, 1, ... in accept order): equal
    /// numbers mean the client reused a keep-alive connection.
    pub connection: usize,
}

impl Request {
    /// The first header with this name (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON; panics with the body if it is not.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} {}: body is not JSON ({e}): {:?}",
                self.method,
                self.path,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The path without the query string.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or(&self.path)
    }

    /// The raw (still percent-encoded) value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        let (_, query) = self.path.split_once('?')?;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then_some(v)
        })
    }

    /// The token of an `Authorization: Bearer <token>` header.
    pub fn bearer(&self) -> Option<&str> {
        let auth = self.header("authorization")?;
        let (scheme, token) = auth.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then_some(token.trim())
    }
}

/// What the mock sends back. Build with `json`, `text`, `bytes` or `raw`,
/// then adjust with `header`, `delay`, `reset_after`, `slow_body`.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    delay: Duration,
    fault: Fault,
}

#[derive(Debug, Clone)]
enum Fault {
    None,
    /// Send this many body bytes, then reset the connection.
    ResetAfter(usize),
    /// Send the body `chunk` bytes at a time, `every` apart.
    SlowBody {
        chunk: usize,
        every: Duration,
    },
    /// `body` is the whole response, sent verbatim; then close.
    Raw,
}

impl Reply {
    /// `status` with a JSON body (`content-type: application/json`).
    pub fn json(status: u16, v: serde_json::Value) -> Reply {
        let body = serde_json::to_vec(&v).expect("serialize mock JSON reply");
        Reply::bytes(status, "application/json", body)
    }

    /// `status` with a plain-text body.
    pub fn text(status: u16, body: &str) -> Reply {
        Reply::bytes(
            status,
            "text/plain; charset=utf-8",
            body.as_bytes().to_vec(),
        )
    }

    /// `status` with any body and content type.
    pub fn bytes(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
            body,
            delay: Duration::ZERO,
            fault: Fault::None,
        }
    }

    /// `status` with no body and no content type (e.g. 204, or a redirect
    /// with `.header("location", ...)`).
    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
            fault: Fault::None,
        }
    }

    /// These bytes are written to the socket as they are, instead of a
    /// response, and the connection is closed: for malformed HTTP.
    pub fn raw(bytes: Vec<u8>) -> Reply {
        Reply {
            status: 0,
            headers: Vec::new(),
            body: bytes,
            delay: Duration::ZERO,
            fault: Fault::Raw,
        }
    }

    /// Adds a header. A `content-type` replaces the one set by the
    /// constructor; a `content-length` replaces the computed one (to lie
    /// about the length); `connection: close` closes after this reply.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        assert!(
            !matches!(self.fault, Fault::Raw),
            "Reply::raw is sent verbatim: put the header in its bytes"
        );
        let name = name.to_ascii_lowercase();
        if name == "content-type" {
            self.headers.retain(|(n, _)| n != "content-type");
        }
        self.headers.push((name, value.to_owned()));
        self
    }

    /// Waits this long before sending anything.
    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }

    /// Sends the headers (with the full `content-length`) and the first `n`
    /// body bytes, then resets the connection (TCP RST where the platform
    /// allows, else a plain close).
    pub fn reset_after(mut self, n: usize) -> Reply {
        assert!(
            !matches!(self.fault, Fault::Raw),
            "reset_after on Reply::raw"
        );
        self.fault = Fault::ResetAfter(n);
        self
    }

    /// Sends the body `chunk` bytes at a time with `every` between them.
    pub fn slow_body(mut self, chunk: usize, every: Duration) -> Reply {
        assert!(!matches!(self.fault, Fault::Raw), "slow_body on Reply::raw");
        assert!(chunk > 0, "slow_body chunk must be at least 1 byte");
        self.fault = Fault::SlowBody { chunk, every };
        self
    }

    fn has_header(&self, name: &str) -> bool {
        self.headers.iter().any(|(n, _)| n == name)
    }

    fn wants_close(&self) -> bool {
        self.headers
            .iter()
            .any(|(n, v)| n == "connection" && v.eq_ignore_ascii_case("close"))
    }
}

/// State shared by the mock's handle and its threads.
struct Shared {
    handler: Box<Handler>,
    requests: Mutex<Vec<Request>>,
    stopping: AtomicBool,
    next_connection: AtomicUsize,
    /// A clone of every open connection, so Drop can shut them down and
    /// unblock threads waiting for the next keep-alive request.
    open: Mutex<Vec<(usize, TcpStream)>>,
}

/// A running mock registry on 127.0.0.1; stopped when dropped.
pub struct MockRegistry {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl MockRegistry {
    /// Starts serving on a free loopback port; `handler` answers every
    /// request (it runs on the connection's thread, so it may block or
    /// sleep). A handler that panics answers 500 with the panic message.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> MockRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the mock registry");
        let addr = listener.local_addr().expect("mock registry address");
        let shared = Arc::new(Shared {
            handler: Box::new(handler),
            requests: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
            next_connection: AtomicUsize::new(0),
            open: Mutex::new(Vec::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let acceptor = thread::Builder::new()
            .name(format!("mock-accept-{}", addr.port()))
            .spawn(move || accept_loop(listener, accept_shared))
            .expect("start the mock's accept thread");
        MockRegistry {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT/`
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The nerf dart npmrc keys for this registry start with:
    /// `//127.0.0.1:PORT/`.
    pub fn nerf_dart(&self) -> String {
        format!("//{}/", self.addr)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.shared
            .requests
            .lock()
            .expect("mock requests lock poisoned")
            .clone()
    }
}

impl Drop for MockRegistry {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // accept() has no timeout: a connection of our own wakes it up to
        // see the flag. If connecting fails the listener is already gone.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        // Unblock connection threads waiting on a read. They are not
        // joined: one may be sleeping in a `delay` or in the handler, and
        // dropping the mock must never wait for that.
        for (_, stream) in self
            .shared
            .open
            .lock()
            .expect("mock lock poisoned")
            .drain(..)
        {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        // Headers and body go out in separate writes; without this, Nagle's
        // algorithm and the client's delayed ACK add ~40 ms to every reply.
        let _ = stream.set_nodelay(true);
        let id = shared.next_connection.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            shared
                .open
                .lock()
                .expect("mock lock poisoned")
                .push((id, clone));
        }
        let conn_shared = Arc::clone(&shared);
        let spawned = thread::Builder::new()
            .name(format!("mock-conn-{id}"))
            .spawn(move || {
                serve_connection(&stream, id, &conn_shared);
                conn_shared
                    .open
                    .lock()
                    .expect("mock lock poisoned")
                    .retain(|(n, _)| *n != id);
            });
        if spawned.is_err() {
            // Out of threads: the connection is dropped, the client sees it
            // closed, and the test fails loudly on its side.
            continue;
        }
    }
}

/// Serves requests on one connection until either side closes it.
fn serve_connection(stream: &TcpStream, id: usize, shared: &Shared) {
    let mut reader = BufReader::new(stream);
    let mut writer = stream;
    loop {
        let request = match read_request(&mut reader, &mut writer, id) {
            Ok(Some(r)) => r,
            // EOF between requests, a read error or garbage: stop.
            Ok(None) | Err(_) => return,
        };
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        shared
            .requests
            .lock()
            .expect("mock requests lock poisoned")
            .push(request.clone());
        let reply = match catch_unwind(AssertUnwindSafe(|| (shared.handler)(&request))) {
            Ok(reply) => reply,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("(non-string panic)");
                Reply::text(500, &format!("mock handler panicked: {msg}"))
                    .header("connection", "close")
            }
        };
        let keep_alive = client_keeps_alive(&request) && !reply.wants_close();
        match write_reply(&mut writer, &request, &reply, keep_alive) {
            Ok(After::KeepAlive) => continue,
            // Dropping the last handle (when this thread ends) closes the
            // socket, which SO_LINGER 0 turns into an RST. A shutdown
            // here would send an orderly FIN first.
            Ok(After::Reset) => return,
            _ => {
                // An orderly close: FIN after everything written.
                let _ = stream.shutdown(Shutdown::Write);
                return;
            }
        }
    }
}

/// HTTP/1.1 keeps the connection unless told otherwise; HTTP/1.0 only when
/// asked.
fn client_keeps_alive(req: &Request) -> bool {
    let connection = req.header("connection").unwrap_or("").to_ascii_lowercase();
    let tokens: Vec<&str> = connection.split(',').map(str::trim).collect();
    if req.version == "HTTP/1.0" {
        tokens.contains(&"keep-alive")
    } else {
        !tokens.contains(&"close")
    }
}

/// Reads one request; `Ok(None)` on a clean EOF before it starts.
fn read_request(
    reader: &mut BufReader<&TcpStream>,
    writer: &mut &TcpStream,
    connection: usize,
) -> std::io::Result<Option<Request>> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("malformed request line"));
    };
    let (method, path, version) = (method.to_owned(), path.to_owned(), version.to_owned());

    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(bad("EOF in headers"));
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad("malformed header"))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };

    // A client that waits for permission to send the body gets it.
    if find("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }

    let chunked =
        find("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        read_chunked(reader)?
    } else if let Some(len) = find("content-length") {
        let len: usize = len.parse().map_err(|_| bad("bad content-length"))?;
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        body
    } else {
        Vec::new()
    };

    Ok(Some(Request {
        method,
        path,
        headers,
        body,
        version,
        connection,
    }))
}

fn read_chunked(reader: &mut BufReader<&TcpStream>) -> std::io::Result<Vec<u8>> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        reader.read_line(&mut size_line)?;
        // Chunk extensions (";name=value") are allowed and ignored.
        let size_hex = size_line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| bad("bad chunk size"))?;
        if size == 0 {
            // Trailers, up to the blank line that ends the body.
            loop {
                let mut trailer = String::new();
                if reader.read_line(&mut trailer)? == 0 || trailer.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf)?;
    }
}

/// What to do with the connection after a reply.
enum After {
    KeepAlive,
    Close,
    /// Close with an RST (the socket is already set up for it).
    Reset,
}

/// Writes the reply and says whether the connection can carry another.
fn write_reply(
    stream: &mut &TcpStream,
    request: &Request,
    reply: &Reply,
    keep_alive: bool,
) -> std::io::Result<After> {
    if !reply.delay.is_zero() {
        thread::sleep(reply.delay);
    }
    if let Fault::Raw = reply.fault {
        stream.write_all(&reply.body)?;
        stream.flush()?;
        return Ok(After::Close);
    }

    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    if !reply.has_header("content-length") {
        head.push_str(&format!("content-length: {}\r\n", reply.body.len()));
    }
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !keep_alive && !reply.wants_close() {
        head.push_str("connection: close\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;

    // HEAD, 204 and 304 have no body whatever the length says.
    let body: &[u8] = if request.method == "HEAD" || reply.status == 204 || reply.status == 304 {
        &[]
    } else {
        &reply.body
    };
    match reply.fault {
        Fault::None | Fault::Raw => stream.write_all(body)?,
        Fault::ResetAfter(n) => {
            stream.write_all(&body[..n.min(body.len())])?;
            stream.flush()?;
            reset(stream);
            return Ok(After::Reset);
        }
        Fault::SlowBody { chunk, every } => {
            for (i, piece) in body.chunks(chunk).enumerate() {
                if i > 0 {
                    thread::sleep(every);
                }
                stream.write_all(piece)?;
                stream.flush()?;
            }
        }
    }
    stream.flush()?;
    Ok(if keep_alive {
        After::KeepAlive
    } else {
        After::Close
    })
}

/// Makes the coming close a TCP reset rather than an orderly FIN, so the
/// client sees "connection reset" mid-body.
#[cfg(target_os = "linux")]
fn reset(stream: &TcpStream) {
    use std::os::fd::AsRawFd;

    // SO_LINGER with a zero timeout turns close() into RST. std's
    // `set_linger` is still unstable, so call setsockopt directly; std
    // already links the C library, no crate needed.
    #[repr(C)]
    struct Linger {
        l_onoff: i32,
        l_linger: i32,
    }
    const SOL_SOCKET: i32 = 1;
    const SO_LINGER: i32 = 13;
    unsafe extern "C" {
        fn setsockopt(fd: i32, level: i32, name: i32, value: *const Linger, len: u32) -> i32;
    }
    let linger = Linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the fd is open for the duration of the call (we borrow the
    // stream) and `linger` is a valid `struct linger` of the size passed.
    let rc = unsafe {
        setsockopt(
            stream.as_raw_fd(),
            SOL_SOCKET,
            SO_LINGER,
            &linger,
            std::mem::size_of::<Linger>() as u32,
        )
    };
    if rc != 0 {
        // Falls back to an ordinary close: still a truncated body.
        eprintln!("mock: SO_LINGER failed; closing without RST");
    }
    // Only close() resets (shutdown() would send a FIN): the caller just
    // returns, and the RST goes out when the connection thread drops the
    // last handles, its own and the clone in `Shared::open`.
}

#[cfg(not(target_os = "linux"))]
fn reset(_stream: &TcpStream) {}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// A legacy npm token object as `GET /-/npm/v1/tokens` lists it.
/// `key` is the token's id (npm uses a sha512 hex), `mask` the shortened
/// token shown to the user (e.g. "a1b2c3").
pub fn npm_token(key: &str, mask: &str) -> serde_json::Value {
    serde_json::json!({
        "key": key,
        "token": mask,
        "cidr_whitelist": null,
        "readonly": false,
        "automation": false,
        "created": "2024-01-02T03:04:05.678Z",
        "updated": "2024-01-02T03:04:05.678Z",
    })
}

/// A granular access token object in npmjs's current shape, with read-only
/// package permissions on every package. Adjust fields with `v["x"] = ...`.
pub fn granular_token(key: &str, name: &str) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "description": format!("{name} (made by the rtok tests)"),
        "key": key,
        "token": "npm_aBcD...7890",
        "expiry": "2030-01-01T00:00:00.000Z",
        "cidr": null,
        "bypass_2fa": false,
        "readonly": false,
        "revoked": null,
        "created": "2024-01-02T03:04:05.678Z",
        "updated": "2024-01-02T03:04:05.678Z",
        "accessed": null,
        "permissions": [
            { "name": "package", "action": "read" },
            { "name": "org", "action": "none" },
        ],
        "scopes": [
            { "type": "package", "name": "*" },
        ],
    })
}

/// A token list page as npm's registry sends it.
pub fn token_page(objects: Vec<serde_json::Value>, next: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "objects": objects,
        "total": null,
        "urls": { "next": next },
    })
}
