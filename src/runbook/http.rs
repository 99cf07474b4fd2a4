//! `http` steps: sending the request (reqwest) and judging the response
//! (pure, so the engine decides pass or fail without I/O).

use serde::{Deserialize, Serialize};

use super::format::{HttpMethod, HttpSpec};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpResponse {
    pub status: u16,
    pub body: String,
}

/// What a passing response established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpPass {
    pub observed: String,
    /// Variables captured from the response body.
    pub captures: Vec<(String, String)>,
}

/// Longest piece of a failing response body quoted back to the operator.
const BODY_EXCERPT: usize = 200;

pub fn judge(spec: &HttpSpec, result: Result<HttpResponse, String>) -> Result<HttpPass, String> {
    let what = format!("{} {}", spec.method.as_str(), spec.url);
    let response = result.map_err(|e| format!("{what} failed: {e}"))?;
    let status_ok = match spec.expect.status {
        Some(expected) => response.status == expected,
        None => (200..300).contains(&response.status),
    };
    if !status_ok {
        let expected = spec
            .expect
            .status
            .map_or("a 2xx status".to_string(), |s| s.to_string());
        return Err(format!(
            "{what} answered {}, expected {expected}; body: {}",
            response.status,
            excerpt(&response.body)
        ));
    }
    if let Some(fragment) = &spec.expect.body_contains
        && !response.body.contains(fragment.as_str())
    {
        return Err(format!(
            "{what} answered {} without {fragment:?} in the body: {}",
            response.status,
            excerpt(&response.body)
        ));
    }
    let mut captures = Vec::new();
    if !spec.capture.is_empty() {
        let json: serde_json::Value = serde_json::from_str(&response.body).map_err(|_| {
            format!(
                "{what}: the response is not JSON, so nothing can be captured: {}",
                excerpt(&response.body)
            )
        })?;
        for (name, pointer) in &spec.capture {
            let value = match json.pointer(pointer) {
                None | Some(serde_json::Value::Null) => {
                    return Err(format!(
                        "{what}: the response has no value at {pointer} for `{name}`"
                    ));
                }
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            captures.push((name.clone(), value));
        }
    }
    Ok(HttpPass {
        observed: format!("{what} answered {}", response.status),
        captures,
    })
}

fn excerpt(body: &str) -> String {
    let body = body.trim();
    if body.chars().count() <= BODY_EXCERPT {
        return body.to_string();
    }
    let cut: String = body.chars().take(BODY_EXCERPT).collect();
    format!("{cut}…")
}

/// Makes the request a resolved spec describes. Transport errors come back
/// as text; any HTTP status is a response for [`judge`] to assess.
pub async fn send(client: &reqwest::Client, spec: &HttpSpec) -> Result<HttpResponse, String> {
    let method = match spec.method {
        HttpMethod::Get => reqwest::Method::GET,
        HttpMethod::Post => reqwest::Method::POST,
        HttpMethod::Put => reqwest::Method::PUT,
        HttpMethod::Delete => reqwest::Method::DELETE,
        HttpMethod::Head => reqwest::Method::HEAD,
    };
    let mut request = client.request(method, &spec.url).timeout(spec.timeout);
    for (name, value) in &spec.headers {
        request = request.header(name, value);
    }
    if let Some(body) = &spec.json {
        request = request.json(body);
    }
    let response = request.send().await.map_err(|e| error_text(&e))?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(|e| error_text(&e))?;
    Ok(HttpResponse { status, body })
}

fn error_text(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> HttpSpec {
        serde_saphyr::from_str(yaml).unwrap()
    }

    fn ok(status: u16, body: &str) -> Result<HttpResponse, String> {
        Ok(HttpResponse {
            status,
            body: body.into(),
        })
    }

    #[test]
    fn any_2xx_passes_when_no_status_is_expected() {
        let s = spec("url: http://app/health\n");
        assert!(judge(&s, ok(204, "")).is_ok());
        let err = judge(&s, ok(503, "region down")).unwrap_err();
        assert_eq!(
            err,
            "GET http://app/health answered 503, expected a 2xx status; body: region down"
        );
    }

    #[test]
    fn captures_a_token_and_reports_a_missing_one() {
        let s = spec("method: POST\nurl: http://app/auth/login\ncapture: { token: /token }\n");
        let pass = judge(&s, ok(200, r#"{"token":"abc"}"#)).unwrap();
        assert_eq!(pass.captures, vec![("token".into(), "abc".into())]);
        let err = judge(&s, ok(200, r#"{"error":"no"}"#)).unwrap_err();
        assert!(err.contains("no value at /token"), "{err}");
        let err = judge(&s, ok(200, "<html>")).unwrap_err();
        assert!(err.contains("not JSON"), "{err}");
    }

    #[test]
    fn body_fragment_and_transport_errors() {
        let s = spec("url: http://app/x\nexpect: { status: 200, body_contains: ok }\n");
        assert!(judge(&s, ok(200, "all ok")).is_ok());
        assert!(
            judge(&s, ok(200, "nope"))
                .unwrap_err()
                .contains("without \"ok\"")
        );
        assert_eq!(
            judge(&s, Err("connection refused".into())).unwrap_err(),
            "GET http://app/x failed: connection refused"
        );
    }
}
