//! `xtask otlp-sink PORT DIR` (scripts/shipped-e2e.sh): the collector the
//! functions send their traces to, standing in for the ADOT layer: each
//! export's body kept as DIR/otlp-N.bin, for lambda-smoke to read
//! ([`span_named`]). HTTP/1.1 with Content-Length, as the functions' OTLP
//! client sends it (common/src/telemetry/traces/otlp_client.rs).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub fn run(port: &str, dir: &Path) -> Result<(), String> {
    let listener = TcpListener::bind(format!("127.0.0.1:{port}"))
        .map_err(|err| format!("otlp-sink on port {port}: {err}"))?;
    let exports = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming().flatten() {
        let (dir, exports) = (dir.to_owned(), exports.clone());
        std::thread::spawn(move || serve(stream, &dir, &exports));
    }
    Ok(())
}

/// One connection's requests, one after another (a function keeps its
/// connection), each answered 200.
fn serve(stream: TcpStream, dir: &Path, exports: &AtomicUsize) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut line = String::new();
    while reader.read_line(&mut line)? > 0 {
        let mut length = 0;
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let Some((name, value)) = line.split_once(':') else {
                break; // the blank line ending the head
            };
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        if length > 0 {
            let n = exports.fetch_add(1, Ordering::SeqCst);
            std::fs::write(dir.join(format!("otlp-{n}.bin")), &body)?;
        }
        writer.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")?;
        line.clear();
    }
    Ok(())
}

/// The bodies the sink kept in `dir`.
pub fn exports(dir: &Path) -> Result<Vec<Vec<u8>>, String> {
    let entries = std::fs::read_dir(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    entries
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "bin"))
        .map(|path| std::fs::read(&path).map_err(|err| format!("{}: {err}", path.display())))
        .collect()
}

/// Whether an export holds a span named `name`: OTLP's `Span.name` is
/// field 5, a string, so its tag (5 << 3 | 2), then its length (one byte
/// for a name under 128), then the name.
pub fn span_named(exports: &[Vec<u8>], name: &str) -> bool {
    let mut field = vec![0x2a, name.len() as u8];
    field.extend_from_slice(name.as_bytes());
    exports
        .iter()
        .any(|body| body.windows(field.len()).any(|window| window == field))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A span's name as prost writes it: its field's tag and length, then
    /// the name; the name alone, or a prefix of it, is not a span's name.
    #[test]
    fn finds_a_span_by_its_name_field() {
        let export = [
            b"\x0a\x10trace-id-16bytes\x2a\x0bget_article".as_slice(),
            b"\x30\x02",
        ]
        .concat();
        let exports = [export];
        assert!(span_named(&exports, "get_article"));
        assert!(!span_named(&exports, "get_art"));
        assert!(!span_named(&[b"get_article".to_vec()], "get_article"));
    }
}
