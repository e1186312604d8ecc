//! A real shared cache in front of the API: nginx's `proxy_cache`,
//! configured as the template configures CloudFront (xtask/src/template/):
//!
//! - the cache key is the URL with its query, the `Authorization` header
//!   (so a signed-in response could never be served to anyone else, even
//!   if the API marked it shareable) and the `Origin` header (CORS);
//! - only GET and HEAD are cached, and only as long as the API's
//!   `Cache-Control` allows (`s-maxage`); without it, nothing (CloudFront's
//!   default TTL of 0);
//! - an expired entry is revalidated with its `ETag` (`If-None-Match`);
//! - every request carries the origin secret (`x-origin-verify`), as
//!   CloudFront's origin custom header does, so the API behind it can be
//!   closed to everything else;
//! - the `Host` header is the origin's own (CloudFront forwards every
//!   header but Host);
//! - `x-viewer-address` is the client's address, whatever the client sent
//!   (the template's viewer-request function).
//!
//! Each answer says what the cache did in `x-cache-status` (nginx's
//! `$upstream_cache_status`: HIT, MISS, EXPIRED, REVALIDATED, ...).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// nginx, as the test started it; stopped when dropped.
pub struct SharedCache {
    child: Child,
    url: String,
    _dir: TempDir,
}

/// The header in which nginx tells what its cache did.
pub const CACHE_STATUS_HEADER: &str = "x-cache-status";

impl SharedCache {
    /// nginx (`NGINX`, or `nginx` on the PATH or in /usr/sbin) on a free
    /// loopback port, in front of `origin` (`http://127.0.0.1:<port>`),
    /// sending it `origin_secret`.
    pub async fn start(origin: &str, origin_secret: &str) -> SharedCache {
        let port = free_port().await;
        let dir = TempDir::new();
        let config = CONFIG
            .replace("{DIR}", &dir.0.display().to_string())
            .replace("{PORT}", &port.to_string())
            .replace("{ORIGIN}", origin)
            .replace("{ORIGIN_SECRET}", origin_secret)
            .replace(
                "{MAX_BODY}",
                &conduit_common::http::MAX_BODY_BYTES.to_string(),
            );
        let path = dir.0.join("nginx.conf");
        std::fs::write(&path, config).expect("nginx.conf written");
        let binary = std::env::var("NGINX").unwrap_or_else(|_| {
            ["/usr/sbin/nginx", "nginx"]
                .into_iter()
                .find(|candidate| {
                    Command::new(candidate)
                        .arg("-v")
                        .stderr(Stdio::null())
                        .status()
                        .is_ok()
                })
                .expect("nginx installed (scripts/setup.sh apt)")
                .to_owned()
        });
        let child = Command::new(binary)
            .arg("-p")
            .arg(&dir.0)
            .arg("-c")
            .arg(&path)
            .arg("-e")
            .arg(dir.0.join("error.log"))
            .stdin(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let url = format!("http://127.0.0.1:{port}");
        let cache = SharedCache {
            child,
            url,
            _dir: dir,
        };
        cache.wait_until_listening(port).await;
        cache
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    async fn wait_until_listening(&self, port: u16) {
        // Not a time bound on the test: nginx is up once it accepts.
        for _ in 0..600 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nginx did not start listening on {port}");
    }
}

impl Drop for SharedCache {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn free_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    listener.local_addr().unwrap().port()
}

/// A directory of its own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("conduit-nginx-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs unprivileged, in the foreground, everything under `{DIR}`.
const CONFIG: &str = r#"
daemon off;
master_process off;
worker_processes 1;
pid {DIR}/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path {DIR}/body;
    proxy_temp_path {DIR}/proxy;
    fastcgi_temp_path {DIR}/fastcgi;
    uwsgi_temp_path {DIR}/uwsgi;
    scgi_temp_path {DIR}/scgi;
    proxy_cache_path {DIR}/cache levels=1:2 keys_zone=edge:4m max_size=64m inactive=10m use_temp_path=off;
    server {
        listen 127.0.0.1:{PORT};
        client_max_body_size {MAX_BODY};
        location / {
            proxy_pass {ORIGIN};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Origin-Verify "{ORIGIN_SECRET}";
            proxy_set_header X-Viewer-Address $remote_addr;
            proxy_cache edge;
            proxy_cache_key "$request_method $request_uri $http_authorization $http_origin";
            proxy_cache_methods GET HEAD;
            proxy_cache_revalidate on;
            add_header X-Cache-Status $upstream_cache_status always;
        }
    }
}
"#;
