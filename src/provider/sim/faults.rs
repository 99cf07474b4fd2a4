//! Faults a drill injects into the simulated world.

use serde::{Deserialize, Serialize};

use crate::domain::snapshot::{ErrorKind, SourceError, SourceId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Fault {
    /// The region fails: its endpoints stop answering health checks, its
    /// databases become inaccessible and replication out of it stops.
    RegionOutage { region: String },
    /// One source of observations fails (e.g. the API is throttled), so its
    /// data goes stale while the others stay current.
    SourceFailure { source: SourceId, kind: ErrorKind },
    /// The replication lag of one receiving resource jumps by `seconds`
    /// and decays as natural spikes do.
    LagSpike { resource: String, seconds: u64 },
}

/// What the AWS API would answer when a source fails this way.
pub(super) fn source_error(source: &str, kind: ErrorKind) -> SourceError {
    let (service, region) = source.split_once(':').unwrap_or((source, "us-east-1"));
    let endpoint = format!("https://{service}.{region}.amazonaws.com/");
    let message = match kind {
        ErrorKind::Throttled => "Throttling: Rate exceeded".to_string(),
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
