//! SDK errors as the operator needs them: one [`ErrorKind`] to act on and a
//! message with the full cause chain.

use std::error::Error;

use aws_sdk_rds::config::http::HttpResponse;
use aws_sdk_rds::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::budgeted_http::over_budget;
use crate::domain::snapshot::{ErrorKind, SourceError};

/// Error codes AWS services use for throttling, across query, REST-XML and JSON protocols.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "PriorRequestNotComplete",
    "SlowDown",
];

const EXPIRED_CODES: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "TokenRefreshRequired",
];

const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "AuthFailure",
    "MissingAuthenticationToken",
    "NotAuthorized",
];

const UNAVAILABLE_CODES: &[&str] = &[
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalError",
    "InternalServerError",
];

/// Classifies a service's answer by its error code, falling back to the HTTP status.
pub fn classify(code: Option<&str>, http_status: Option<u16>) -> ErrorKind {
    if let Some(code) = code {
        if THROTTLING_CODES.contains(&code) {
            return ErrorKind::Throttled;
        }
        if EXPIRED_CODES.contains(&code) {
            return ErrorKind::ExpiredCredentials;
        }
        if DENIED_CODES.contains(&code) {
            return ErrorKind::AccessDenied;
        }
        if UNAVAILABLE_CODES.contains(&code) {
            return ErrorKind::ServiceUnavailable;
        }
        if code.contains("NotFound") || code.starts_with("NoSuch") {
            return ErrorKind::NotFound;
        }
        if code.starts_with("Invalid") && code.contains("State") {
            return ErrorKind::InvalidState;
        }
    }
    match http_status {
        Some(429) => ErrorKind::Throttled,
        Some(403) => ErrorKind::AccessDenied,
        Some(404) => ErrorKind::NotFound,
        Some(s) if s >= 500 => ErrorKind::ServiceUnavailable,
        _ => ErrorKind::Other,
    }
}

/// Turns any SDK call failure into the source error a reading carries.
pub fn from_sdk<E>(operation: &str, err: SdkError<E, HttpResponse>) -> SourceError
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
{
    let kind = match &err {
        SdkError::DispatchFailure(failure) if failure.is_user() && over_budget(&err).is_some() => {
            match over_budget(&err).is_some_and(|o| o.throttled) {
                true => ErrorKind::Throttled,
                false => ErrorKind::Budget,
            }
        }
        SdkError::TimeoutError(_) => ErrorKind::Timeout,
        SdkError::DispatchFailure(failure) if failure.is_timeout() => ErrorKind::Timeout,
        SdkError::DispatchFailure(failure) if failure.is_io() => ErrorKind::Network,
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_)
            if mentions_credentials(&err) =>
        {
            ErrorKind::ExpiredCredentials
        }
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
            classify(err.code(), err.raw_response().map(|r| r.status().as_u16()))
        }
        _ => ErrorKind::Other,
    };
    let detail = match &err {
        _ if kind == ErrorKind::Budget => over_budget(&err)
            .map(ToString::to_string)
            .unwrap_or_default(),
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => answer_detail(&err),
        _ => DisplayErrorContext(&err).to_string(),
    };
    SourceError::new(kind, format!("{operation}: {detail}"))
}

/// `HTTP 403 AccessDenied: message`; without code and message, the deepest
/// cause (what failed to parse), never the raw response dump.
fn answer_detail<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
{
    let mut head = Vec::new();
    if let Some(status) = err.raw_response().map(|r| r.status().as_u16()) {
        head.push(format!("HTTP {status}"));
    }
    head.extend(err.code().map(str::to_string));
    let head = head.join(" ");
    match err.message() {
        Some(message) => format!("{head}: {message}"),
        None if err.code().is_none() => format!("{head}: {}", innermost(err)),
        None => head,
    }
}

fn innermost<'a>(err: &'a (dyn Error + 'static)) -> &'a (dyn Error + 'static) {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current
}

/// Credential resolution failures (no credentials, expired SSO session)
/// surface before a request is sent; they need a re-login, not a retry.
fn mentions_credentials(err: &(dyn Error + 'static)) -> bool {
    let mut current: Option<&(dyn Error + 'static)> = Some(err);
    while let Some(e) = current {
        let text = e.to_string().to_ascii_lowercase();
        if text.contains("credential") || text.contains("identity") || text.contains("token") {
            return true;
        }
        current = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_win_over_status() {
        assert_eq!(
            classify(Some("Throttling"), Some(400)),
            ErrorKind::Throttled
        );
        assert_eq!(
            classify(Some("ExpiredToken"), Some(403)),
            ErrorKind::ExpiredCredentials
        );
        assert_eq!(
            classify(Some("AccessDenied"), Some(403)),
            ErrorKind::AccessDenied
        );
        assert_eq!(
            classify(Some("DBClusterNotFoundFault"), Some(404)),
            ErrorKind::NotFound
        );
        assert_eq!(
            classify(Some("NoSuchHealthCheck"), None),
            ErrorKind::NotFound
        );
        assert_eq!(
            classify(Some("InvalidGlobalClusterStateFault"), Some(400)),
            ErrorKind::InvalidState
        );
    }

    #[test]
    fn unknown_codes_fall_back_to_the_status() {
        assert_eq!(
            classify(Some("Weird"), Some(503)),
            ErrorKind::ServiceUnavailable
        );
        assert_eq!(classify(None, Some(500)), ErrorKind::ServiceUnavailable);
        assert_eq!(classify(None, Some(429)), ErrorKind::Throttled);
        assert_eq!(classify(Some("Weird"), Some(400)), ErrorKind::Other);
        assert_eq!(classify(None, None), ErrorKind::Other);
    }
}
