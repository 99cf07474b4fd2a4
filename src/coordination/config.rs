//! Where the shared store is: `[shared]` in the user configuration or
//! `--shared s3://BUCKET/PREFIX --shared-region R`. Without either, runs
//! lock and journal on the local disk only, as before.
//!
//! The bucket must live in a region that is not among those that may fail:
//! a store that fails with the primary region takes the coordination with
//! it exactly when it is needed.

use std::time::Duration;

/// How long a lease lasts without renewal when nothing else is said: long
/// enough to ride out a slow S3 call or two, short enough that a deputy
/// does not wait long for a dead console's lease.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedSettings {
    pub bucket: String,
    /// The bucket's region.
    pub region: String,
    /// Empty, or ending in `/`.
    pub prefix: String,
    pub lease: Duration,
}

impl SharedSettings {
    pub fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    /// Renewed this often: two renewals may fail before the lease lapses.
    pub fn renew_every(&self) -> Duration {
        self.lease / 3
    }
}

/// The store the session uses: `--shared` (with `--shared-region`, or the
/// configuration's region) over `[shared]`; `None` for none at all.
pub fn resolve(
    location: Option<&str>,
    region: Option<&str>,
    configured: Option<SharedSettings>,
) -> Result<Option<SharedSettings>, String> {
    let Some(location) = location else {
        if region.is_some() && configured.is_none() {
            return Err("--shared-region needs --shared s3://BUCKET/PREFIX".into());
        }
        return Ok(configured.map(|mut c| {
            if let Some(region) = region {
                c.region = region.to_string();
            }
            c
        }));
    };
    let (bucket, prefix) = parse_location(location)?;
    let region = region
        .map(str::to_string)
        .or_else(|| configured.as_ref().map(|c| c.region.clone()))
        .ok_or(
            "--shared needs --shared-region REGION: the bucket's region, not one that may fail",
        )?;
    Ok(Some(SharedSettings {
        bucket,
        region,
        prefix,
        lease: configured.map_or(DEFAULT_LEASE, |c| c.lease),
    }))
}

/// Splits `s3://BUCKET/PREFIX` into the bucket and a prefix that is empty
/// or ends in `/`.
pub fn parse_location(text: &str) -> Result<(String, String), String> {
    let rest = text
        .strip_prefix("s3://")
        .ok_or_else(|| format!("`{text}`: expected s3://BUCKET/PREFIX"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    check_bucket(bucket)?;
    Ok((bucket.to_string(), normalise_prefix(prefix)?))
}

/// S3's bucket naming rules, so that a typo is caught before any call.
pub fn check_bucket(bucket: &str) -> Result<(), String> {
    let ok_chars = bucket
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    let ends_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if (3..=63).contains(&bucket.len())
        && ok_chars
        && ends_ok(bucket.chars().next())
        && ends_ok(bucket.chars().last())
        && !bucket.contains("..")
    {
        Ok(())
    } else {
        Err(format!(
            "`{bucket}` is not an S3 bucket name: 3 to 63 lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit"
        ))
    }
}

/// A prefix of keys: no empty, `.` or `..` segments and no control
/// characters; the result is empty or ends in `/`.
pub fn normalise_prefix(prefix: &str) -> Result<String, String> {
    let trimmed = prefix.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    if trimmed.len() > 512 {
        return Err("the prefix is longer than 512 characters".into());
    }
    for segment in trimmed.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(format!(
                "`{prefix}`: a prefix has no empty, `.` or `..` parts"
            ));
        }
        if segment.chars().any(char::is_control) {
            return Err(format!("`{prefix}`: a prefix has no control characters"));
        }
    }
    Ok(format!("{trimmed}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_splits_into_bucket_and_a_slash_ended_prefix() {
        assert_eq!(
            parse_location("s3://dr-coord/team/a").unwrap(),
            ("dr-coord".into(), "team/a/".into())
        );
        assert_eq!(
            parse_location("s3://dr-coord").unwrap(),
            ("dr-coord".into(), String::new())
        );
        assert_eq!(
            parse_location("s3://dr-coord/").unwrap(),
            ("dr-coord".into(), String::new())
        );
        assert_eq!(resolve(None, None, None), Ok(None));
        assert!(resolve(Some("s3://dr-coord/p"), None, None).is_err());
        assert!(resolve(None, Some("us-west-2"), None).is_err());
        let configured = SharedSettings {
            bucket: "cfg-bucket".into(),
            region: "eu-west-1".into(),
            prefix: String::new(),
            lease: Duration::from_secs(5),
        };
        assert_eq!(
            resolve(Some("s3://dr-coord/p"), None, Some(configured.clone())),
            Ok(Some(SharedSettings {
                bucket: "dr-coord".into(),
                region: "eu-west-1".into(),
                prefix: "p/".into(),
                lease: Duration::from_secs(5),
            }))
        );
        assert_eq!(
            resolve(None, None, Some(configured.clone())),
            Ok(Some(configured))
        );
        for bad in [
            "dr-coord/x",
            "s3://",
            "s3://Upper",
            "s3://ab",
            "s3://-x-/p",
            "s3://a..b/p",
            "s3://ok-bucket/a//b",
            "s3://ok-bucket/../x",
            "s3://ok-bucket/a\u{7}b",
        ] {
            assert!(parse_location(bad).is_err(), "{bad}");
        }
    }
}
