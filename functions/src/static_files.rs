//! Files compiled into the binaries (Swagger UI's, GraphiQL's: no CDN,
//! works offline), served by name: the content type from the name's
//! extension, a file stored gzipped sent as it is with its
//! `Content-Encoding`, an unknown name a 404. Caching is the pipeline's, as
//! for every anonymous read: an `ETag` from the body, revalidated.

use conduit_common::ApiError;
use conduit_common::http::ApiResult;
use conduit_common::lambda_http::Body;
use conduit_common::lambda_http::http::{Response, StatusCode, header};

/// One file, as compiled in.
pub struct StaticFile {
    pub name: &'static str,
    pub bytes: &'static [u8],
    /// Stored gzipped (build.rs compressed it).
    pub gzipped: bool,
}

impl StaticFile {
    pub const fn plain(name: &'static str, bytes: &'static [u8]) -> Self {
        Self {
            name,
            bytes,
            gzipped: false,
        }
    }

    pub const fn gzipped(name: &'static str, bytes: &'static [u8]) -> Self {
        Self {
            name,
            bytes,
            gzipped: true,
        }
    }

    pub fn content_type(&self) -> &'static str {
        content_type(self.name)
    }

    pub fn response(&self) -> ApiResult {
        let mut response = Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, self.content_type());
        if self.gzipped {
            response = response.header(header::CONTENT_ENCODING, "gzip");
        }
        Ok(response
            .body(Body::Binary(self.bytes.to_vec()))
            .expect("static response parts are valid"))
    }
}

/// The file of `files` called `name`, or a 404.
pub fn serve(files: &[StaticFile], name: &str) -> ApiResult {
    files
        .iter()
        .find(|file| file.name == name)
        .ok_or(ApiError::NotFound("file"))?
        .response()
}

/// The content type of a file, by its extension: the kinds of file served.
pub fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILES: &[StaticFile] = &[
        StaticFile::plain("index.html", b"<html>"),
        StaticFile::gzipped("app.js", b"\x1f\x8b"),
    ];

    #[test]
    fn files_are_typed_by_extension_and_unknown_ones_are_404() {
        let page = serve(FILES, "index.html").unwrap();
        assert_eq!(
            page.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert!(page.headers().get(header::CONTENT_ENCODING).is_none());
        let script = serve(FILES, "app.js").unwrap();
        assert_eq!(script.headers()[header::CONTENT_TYPE], "text/javascript");
        assert_eq!(script.headers()[header::CONTENT_ENCODING], "gzip");
        assert!(matches!(
            serve(FILES, "app.js.map"),
            Err(ApiError::NotFound("file"))
        ));
    }
}
