//! What the simulated AWS APIs answer while a fault is in force.

use crate::domain::snapshot::{ErrorKind, SourceError};

/// What the AWS API would answer when a source fails this way.
pub(super) fn source_error(source: &str, kind: ErrorKind) -> SourceError {
    let (service, region) = source.split_once(':').unwrap_or((source, "us-east-1"));
    let endpoint = format!("https://{service}.{region}.amazonaws.com/");
    let message = match kind {
        ErrorKind::Throttled => "Throttling: Rate exceeded".to_string(),
        ErrorKind::Budget => format!("{service}: poll part skipped for the API budget"),
        ErrorKind::Timeout => format!("operation timed out: {endpoint}"),
        ErrorKind::AccessDenied => {
            format!("AccessDenied: User is not authorized to perform {service} read operations")
        }
        ErrorKind::ExpiredCredentials => {
            "ExpiredToken: The security token included in the request is expired".to_string()
        }
        ErrorKind::ServiceUnavailable => {
            "ServiceUnavailable: Service is unable to handle request".to_string()
        }
        ErrorKind::Network => format!("Could not connect to the endpoint URL: \"{endpoint}\""),
        ErrorKind::NotFound => format!("{service}: resource not found"),
        ErrorKind::InvalidState => format!("{service}: invalid state"),
        ErrorKind::Other => format!("InternalFailure: {service} request failed"),
    };
    SourceError::new(kind, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::fault::Fault;

    #[test]
    fn faults_read_from_yaml_by_type() {
        let f: Fault = serde_saphyr::from_str(
            "type: source-failure\nsource: rds:us-east-1\nkind: throttled\n",
        )
        .unwrap();
        assert_eq!(
            f,
            Fault::SourceFailure {
                source: "rds:us-east-1".into(),
                kind: ErrorKind::Throttled
            }
        );
    }

    #[test]
    fn a_network_failure_names_the_regional_endpoint() {
        let e = source_error("cloudwatch:us-west-2", ErrorKind::Network);
        assert!(
            e.message
                .contains("https://cloudwatch.us-west-2.amazonaws.com/"),
            "{e}"
        );
    }
}
