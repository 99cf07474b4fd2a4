//! Pieces of RDS ARNs (`arn:aws:rds:us-west-2:123456789012:cluster:orders-dr`).

/// The region of a regional ARN; `None` for plain identifiers and global ARNs.
pub fn region(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    if parts.next() != Some("arn") {
        return None;
    }
    parts.nth(2).filter(|r| !r.is_empty())
}

/// The identifier an ARN names, or the input itself when it is not an ARN.
pub fn resource_id(arn_or_id: &str) -> &str {
    if !arn_or_id.starts_with("arn:") {
        return arn_or_id;
    }
    arn_or_id.splitn(7, ':').nth(6).unwrap_or(arn_or_id)
}

/// Whether two references (ARN or identifier) name the same resource.
pub fn same_resource(a: &str, b: &str) -> bool {
    if a.starts_with("arn:") && b.starts_with("arn:") {
        return a == b;
    }
    resource_id(a) == resource_id(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_cluster_arns() {
        let arn = "arn:aws:rds:us-west-2:123456789012:cluster:orders-dr";
        assert_eq!(region(arn), Some("us-west-2"));
        assert_eq!(resource_id(arn), "orders-dr");
    }

    #[test]
    fn plain_ids_and_global_arns_have_no_region() {
        assert_eq!(region("orders-dr"), None);
        assert_eq!(region("arn:aws:rds::123456789012:global-cluster:g"), None);
        assert_eq!(resource_id("orders-dr"), "orders-dr");
        assert_eq!(resource_id("arn:broken"), "arn:broken");
    }

    #[test]
    fn matches_arns_against_identifiers() {
        let arn = "arn:aws:rds:us-west-2:123456789012:db:billing-replica";
        assert!(same_resource(arn, "billing-replica"));
        assert!(!same_resource(arn, "billing"));
        assert!(!same_resource(
            arn,
            "arn:aws:rds:us-east-1:123456789012:db:billing-replica"
        ));
    }
}
