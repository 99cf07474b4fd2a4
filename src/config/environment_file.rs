//! Environment files: the embedded demo, user files checked for consistency,
//! and synthetic estates of any size for benchmarks.

use std::path::Path;
use std::time::Duration;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::source_file::{FileError, Refusal, Step, parse_toml, read_text};
use crate::domain::environment::{
    DnsSpec, Environment, HealthCheckSpec, Replication, ServiceSpec, SimSettings, check_identifier,
    check_label, is_region_name, limits,
};
use crate::domain::objectives::{DrTier, Objectives};
use Step::{Index, Key};

/// Name the embedded demo file is reported under in errors.
const DEMO_PATH: &str = "environments/demo.toml";
const DEMO_TOML: &str = include_str!("../../environments/demo.toml");

/// Route 53 accepts failure thresholds from 1 to 10.
const FAILURE_THRESHOLDS: std::ops::RangeInclusive<u32> = 1..=10;

/// The estate shown when drconsole runs with no AWS account.
pub fn demo_environment() -> Environment {
    // The embedded file is checked by a unit test, so this cannot fail in a
    // built binary; the fallback keeps the signature infallible regardless.
    parse_environment(Path::new(DEMO_PATH), DEMO_TOML).unwrap_or_else(|_| Environment {
        name: "demo".into(),
        home_region: "us-east-1".into(),
        regions: vec!["us-east-1".into()],
        services: Vec::new(),
        sim: SimSettings::default(),
    })
}

/// Reads and checks an environment file.
pub fn load_environment(path: &Path) -> Result<Environment, FileError> {
    let text = read_text(path)?;
    parse_environment(path, &text)
}

/// Parses and checks environment text; `path` names it in errors.
pub fn parse_environment(path: &Path, text: &str) -> Result<Environment, FileError> {
    let env: Environment = parse_toml(path, text)?;
    validate(&env).map_err(|refusal| refusal.in_file(path, text))?;
    Ok(env)
}

/// Checks what the TOML grammar cannot: each value within the limits AWS
/// and drconsole set, and references between parts of the file. The
/// refusal says where the offending value is.
pub fn validate(env: &Environment) -> Result<(), Refusal> {
    label(&env.name, &[Key("name")], "name")?;
    if env.regions.is_empty() {
        return Err(Refusal::new(
            vec![Key("regions")],
            "`regions` must name at least one region",
        ));
    }
    too_many(
        &env.regions,
        limits::REGIONS_MAX,
        &[Key("regions")],
        "regions",
    )?;
    too_many(
        &env.services,
        limits::SERVICES_MAX,
        &[Key("service")],
        "services",
    )?;
    let mut regions = HashSet::default();
    for (i, region) in env.regions.iter().enumerate() {
        let at = vec![Key("regions"), Index(i)];
        region_name(region, &at, "regions")?;
        if !regions.insert(region.as_str()) {
            return Err(Refusal::new(
                at,
                format!("region `{region}` is listed twice in `regions`"),
            ));
        }
    }
    region_name(&env.home_region, &[Key("home_region")], "home_region")?;
    let time_scale = env.sim.time_scale;
    if !(time_scale.is_finite() && limits::TIME_SCALE.contains(&time_scale)) {
        return Err(Refusal::new(
            vec![Key("sim"), Key("time_scale")],
            format!(
                "sim.time_scale must be a number from {} to {} (simulated seconds per real second), not {time_scale:?}",
                limits::TIME_SCALE.start(),
                limits::TIME_SCALE.end()
            ),
        ));
    }
    let mut service_ids = HashSet::default();
    let mut resource_owner: HashMap<&str, &str> = HashMap::default();
    let mut health_checks: HashMap<&str, &HealthCheckSpec> = HashMap::default();
    for (n, service) in env.services.iter().enumerate() {
        let at = |steps: &[Step]| [&[Key("service"), Index(n)], steps].concat();
        let id = service.id.as_str();
        identifier(
            id,
            &at(&[Key("id")]),
            "service id",
            1..=limits::SERVICE_ID_MAX,
            |c| c.is_ascii_alphanumeric() || c == '-' || c == '_',
            "ASCII letters, digits, `-` and `_`",
        )?;
        if !service_ids.insert(id) {
            return Err(Refusal::new(
                at(&[Key("id")]),
                format!("service `{id}` is defined twice"),
            ));
        }
        label(
            &service.name,
            &at(&[Key("name")]),
            &format!("service `{id}`: name"),
        )?;
        for (field, value) in [
            ("rto", service.objectives.rto),
            ("rpo", service.objectives.rpo),
        ] {
            if value > limits::OBJECTIVE_MAX {
                return Err(Refusal::new(
                    at(&[Key(field)]),
                    format!(
                        "service `{id}`: {field} must be at most {}, not {}",
                        crate::format::objective(limits::OBJECTIVE_MAX),
                        crate::format::objective(value)
                    ),
                ));
            }
        }
        for (field, region) in [
            ("primary_region", &service.primary_region),
            ("dr_region", &service.dr_region),
        ] {
            region_name(
                region,
                &at(&[Key(field)]),
                &format!("service `{id}`: {field}"),
            )?;
            if !regions.contains(region.as_str()) {
                return Err(Refusal::new(
                    at(&[Key(field)]),
                    format!("service `{id}`: {field} `{region}` is not listed in `regions`"),
                ));
            }
        }
        if service.primary_region == service.dr_region {
            return Err(Refusal::new(
                at(&[Key("dr_region")]),
                format!(
                    "service `{id}`: dr_region must differ from primary_region (both `{}`)",
                    service.primary_region
                ),
            ));
        }
        if let Replication::Backup {
            clusters,
            instances,
        } = &service.replication
            && clusters.len() + instances.len() > limits::BACKUP_RESOURCES_MAX
        {
            return Err(Refusal::new(
                at(&[Key("replication")]),
                format!(
                    "service `{id}`: at most {} clusters and instances may be backed up, not {}",
                    limits::BACKUP_RESOURCES_MAX,
                    clusters.len() + instances.len()
                ),
            ));
        }
        too_many(
            &service.health_checks,
            limits::HEALTH_CHECKS_MAX,
            &at(&[Key("health_checks")]),
            &format!("service `{id}`: health checks"),
        )?;
        for (field, resource) in replication_fields(&service.replication) {
            let place = at(&[&[Key("replication")], field.as_slice()].concat());
            replication_id(&service.replication, resource, &place, id)?;
            if let Some(owner) = resource_owner.insert(resource, id) {
                return Err(Refusal::new(
                    place,
                    format!(
                        "service `{id}`: resource `{resource}` is already used by service `{owner}`"
                    ),
                ));
            }
        }
        for (c, check) in service.health_checks.iter().enumerate() {
            let at = |field: &'static str| at(&[Key("health_checks"), Index(c), Key(field)]);
            identifier(
                &check.id,
                &at("id"),
                &format!("service `{id}`: health check id"),
                1..=limits::HEALTH_CHECK_ID_MAX,
                |c| c.is_ascii_graphic(),
                "printable ASCII characters",
            )?;
            let check_id = &check.id;
            region_name(
                &check.region,
                &at("region"),
                &format!("service `{id}`: health check `{check_id}` region"),
            )?;
            if !regions.contains(check.region.as_str()) {
                return Err(Refusal::new(
                    at("region"),
                    format!(
                        "service `{id}`: health check `{check_id}` region `{}` is not listed in `regions`",
                        check.region
                    ),
                ));
            }
            dns_name(
                &check.fqdn,
                &at("fqdn"),
                &format!("service `{id}`: health check `{check_id}` fqdn"),
            )?;
            if !FAILURE_THRESHOLDS.contains(&check.failure_threshold) {
                return Err(Refusal::new(
                    at("failure_threshold"),
                    format!(
                        "service `{id}`: health check `{check_id}` failure_threshold must be 1 to 10, not {}",
                        check.failure_threshold
                    ),
                ));
            }
            // Services may share a check, but then they must describe the same one.
            if let Some(seen) = health_checks.insert(&check.id, check)
                && seen != check
            {
                return Err(Refusal::new(
                    at("id"),
                    format!(
                        "service `{id}`: health check `{check_id}` is defined differently elsewhere"
                    ),
                ));
            }
        }
        if let Some(dns) = &service.dns {
            validate_dns(id, dns, |field| at(&[Key("dns"), Key(field)]))?;
        }
    }
    too_many(
        &env.sim.drift,
        limits::SERVICES_MAX,
        &[Key("sim"), Key("drift")],
        "sim.drift entries",
    )?;
    for (i, drift) in env.sim.drift.iter().enumerate() {
        let at = |field: &'static str| vec![Key("sim"), Key("drift"), Index(i), Key(field)];
        if !resource_owner.contains_key(drift.resource.as_str()) {
            return Err(Refusal::new(
                at("resource"),
                format!(
                    "sim.drift names `{}`, which no service's replication names",
                    drift.resource
                ),
            ));
        }
        for (field, value) in [
            ("engine_version", &drift.engine_version),
            ("instance_class", &drift.instance_class),
            ("parameter_group_family", &drift.parameter_group_family),
        ] {
            if let Some(value) = value {
                label(value, &at(field), &format!("sim.drift.{field}"))?;
            }
        }
    }
    Ok(())
}

fn validate_dns(
    service: &str,
    dns: &DnsSpec,
    at: impl Fn(&'static str) -> Vec<Step>,
) -> Result<(), Refusal> {
    // Route 53 accepts a zone id bare or as `/hostedzone/ID`.
    identifier(
        dns.zone_id
            .strip_prefix("/hostedzone/")
            .unwrap_or(&dns.zone_id),
        &at("zone_id"),
        &format!("service `{service}`: dns.zone_id"),
        1..=limits::ZONE_ID_MAX,
        |c| c.is_ascii_alphanumeric(),
        "ASCII letters and digits (optionally after `/hostedzone/`)",
    )?;
    for (field, value) in [
        ("record", &dns.record),
        ("primary_target", &dns.primary_target),
        ("secondary_target", &dns.secondary_target),
    ] {
        dns_name(
            value,
            &at(field),
            &format!("service `{service}`: dns.{field}"),
        )?;
    }
    if !limits::TTL.contains(&dns.ttl) {
        return Err(Refusal::new(
            at("ttl"),
            format!(
                "service `{service}`: dns.ttl must be from {} to {} seconds, not {}",
                limits::TTL.start(),
                limits::TTL.end(),
                dns.ttl
            ),
        ));
    }
    Ok(())
}

/// Each resource a replication names, with its key (and index, in lists).
fn replication_fields(replication: &Replication) -> Vec<(Vec<Step>, &str)> {
    match replication {
        Replication::AuroraGlobal {
            global_cluster,
            primary_cluster,
            secondary_cluster,
        } => vec![
            (vec![Key("global_cluster")], global_cluster.as_str()),
            (vec![Key("primary_cluster")], primary_cluster.as_str()),
            (vec![Key("secondary_cluster")], secondary_cluster.as_str()),
        ],
        Replication::RdsReplica {
            source_instance,
            replica_instance,
        } => vec![
            (vec![Key("source_instance")], source_instance.as_str()),
            (vec![Key("replica_instance")], replica_instance.as_str()),
        ],
        Replication::S3 {
            source_bucket,
            destination_bucket,
        } => vec![
            (vec![Key("source_bucket")], source_bucket.as_str()),
            (vec![Key("destination_bucket")], destination_bucket.as_str()),
        ],
        Replication::Backup {
            clusters,
            instances,
        } => clusters
            .iter()
            .enumerate()
            .map(|(i, c)| (vec![Key("clusters"), Index(i)], c.as_str()))
            .chain(
                instances
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (vec![Key("instances"), Index(i)], c.as_str())),
            )
            .collect(),
    }
}

/// Buckets follow S3's naming rules; RDS identifiers may be given as ARNs.
fn replication_id(
    replication: &Replication,
    resource: &str,
    at: &[Step],
    service: &str,
) -> Result<(), Refusal> {
    let what = format!("service `{service}`: replication identifier");
    if matches!(replication, Replication::S3 { .. }) {
        return identifier(
            resource,
            at,
            &format!("service `{service}`: bucket name"),
            limits::S3_BUCKET_LEN,
            |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-',
            "lowercase letters, digits, `.` and `-`",
        );
    }
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '-';
    if resource.starts_with("arn:") {
        identifier(
            resource,
            at,
            &what,
            1..=limits::ARN_MAX,
            |c| c.is_ascii_graphic(),
            "printable ASCII characters",
        )?;
        return identifier(
            resource.rsplit(':').next().unwrap_or(resource),
            at,
            &what,
            1..=limits::RDS_ID_MAX,
            plain,
            "ASCII letters, digits and `-` after the ARN's last `:`",
        );
    }
    identifier(
        resource,
        at,
        &what,
        1..=limits::RDS_ID_MAX,
        plain,
        "ASCII letters, digits and `-` (or an ARN)",
    )
}

/// Refuses a list longer than `max`, pointing at its first extra item.
fn too_many<T>(items: &[T], max: usize, at: &[Step], what: &str) -> Result<(), Refusal> {
    if items.len() <= max {
        return Ok(());
    }
    Err(Refusal::new(
        [at, &[Index(max)]].concat(),
        format!("{what}: at most {max} are allowed, not {}", items.len()),
    ))
}

fn label(text: &str, at: &[Step], what: &str) -> Result<(), Refusal> {
    check_label(text, limits::NAME_MAX)
        .map_err(|m| Refusal::new(at.to_vec(), format!("{what} {m}")))
}

fn identifier(
    text: &str,
    at: &[Step],
    what: &str,
    len: std::ops::RangeInclusive<usize>,
    allowed: impl Fn(char) -> bool,
    expected: &str,
) -> Result<(), Refusal> {
    check_identifier(text, len, allowed, expected)
        .map_err(|m| Refusal::new(at.to_vec(), format!("{what} {m}")))
}

fn region_name(region: &str, at: &[Step], what: &str) -> Result<(), Refusal> {
    if is_region_name(region) {
        return Ok(());
    }
    Err(Refusal::new(
        at.to_vec(),
        format!(
            "{what}: `{}` is not an AWS region name; expected one like `us-east-1` or `eu-west-2`",
            region.escape_debug()
        ),
    ))
}

/// A host or record name: at most 255 characters, no spaces or controls.
fn dns_name(name: &str, at: &[Step], what: &str) -> Result<(), Refusal> {
    identifier(
        name,
        at,
        what,
        1..=limits::DNS_NAME_MAX,
        |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '*'),
        "ASCII letters, digits, `.`, `-`, `_` and `*`",
    )
}

/// An estate of `services` services mixing every replication kind, about
/// four monitored resources each (250 services ≈ 1,000 resources).
pub fn synthetic_environment(services: usize) -> Environment {
    synthetic(services, Shape::Sparse)
}

/// An estate shaped like real ones (and the demo): the same mix of
/// replication kinds, and every service behind two health checks and a
/// failover record pair, whatever its replication.
pub fn realistic_environment(services: usize) -> Environment {
    synthetic(services, Shape::Realistic)
}

/// Which services of a synthetic estate have traffic checks and DNS.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Health checks for all but the backup-only quarter, DNS for the S3
    /// quarter only: what the first benchmarks measured.
    Sparse,
    /// Health checks and a failover pair for every service.
    Realistic,
}

fn synthetic(services: usize, shape: Shape) -> Environment {
    let regions = ["us-east-1", "us-west-2"];
    let services = (0..services)
        .map(|n| {
            // Every third service runs the other way round, as real estates do.
            let (primary, dr) = if n % 3 == 2 {
                (regions[1], regions[0])
            } else {
                (regions[0], regions[1])
            };
            synthetic_service(n, primary, dr, shape)
        })
        .collect();
    Environment {
        name: "synthetic".into(),
        home_region: "us-east-1".into(),
        regions: regions.iter().map(|r| r.to_string()).collect(),
        services,
        sim: SimSettings::default(),
    }
}

fn synthetic_service(n: usize, primary: &str, dr: &str, shape: Shape) -> ServiceSpec {
    let id = format!("svc-{n:04}");
    let minutes = |m: u64| Duration::from_secs(m * 60);
    let (tier, objectives, replication) = match n % 4 {
        0 => (
            DrTier::WarmStandby,
            Objectives {
                rto: minutes(15),
                rpo: minutes(5),
            },
            Replication::AuroraGlobal {
                global_cluster: format!("{id}-global"),
                primary_cluster: format!("{id}-primary"),
                secondary_cluster: format!("{id}-secondary"),
            },
        ),
        1 => (
            DrTier::PilotLight,
            Objectives {
                rto: minutes(240),
                rpo: minutes(15),
            },
            Replication::RdsReplica {
                source_instance: format!("{id}-db"),
                replica_instance: format!("{id}-replica"),
            },
        ),
        2 => (
            DrTier::WarmStandby,
            Objectives {
                rto: minutes(30),
                rpo: minutes(15),
            },
            Replication::S3 {
                source_bucket: format!("{id}-{primary}"),
                destination_bucket: format!("{id}-{dr}"),
            },
        ),
        _ => (
            DrTier::BackupRestore,
            Objectives {
                rto: minutes(24 * 60),
                rpo: minutes(24 * 60),
            },
            Replication::Backup {
                clusters: Vec::new(),
                instances: vec![format!("{id}-db")],
            },
        ),
    };
    let realistic = shape == Shape::Realistic;
    let with_traffic = realistic || !matches!(replication, Replication::Backup { .. });
    let health_checks = if with_traffic {
        [primary, dr]
            .iter()
            .map(|region| HealthCheckSpec {
                id: format!("hc-{id}-{region}"),
                region: region.to_string(),
                fqdn: format!("{id}.{region}.example.com"),
                failure_threshold: 3,
            })
            .collect()
    } else {
        Vec::new()
    };
    let with_dns = realistic || matches!(replication, Replication::S3 { .. });
    let dns = with_dns.then(|| DnsSpec {
        zone_id: "ZSYNTHETIC".into(),
        record: format!("{id}.example.com."),
        primary_target: format!("{id}.{primary}.example.com"),
        secondary_target: format!("{id}.{dr}.example.com"),
        ttl: 60,
    });
    ServiceSpec {
        name: format!("Service {n}"),
        id,
        tier,
        objectives,
        primary_region: primary.to_string(),
        dr_region: dr.to_string(),
        replication,
        health_checks,
        dns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Environment, FileError> {
        parse_environment(Path::new("env.toml"), text)
    }

    const MINIMAL: &str = r#"
name = "t"
regions = ["us-east-1", "us-west-2"]

[[service]]
id = "orders"
name = "Orders"
tier = "warm-standby"
rto = "15m"
rpo = "5m"
primary_region = "us-east-1"
dr_region = "us-west-2"
replication = { kind = "s3", source_bucket = "orders-a", destination_bucket = "orders-b" }
"#;

    #[test]
    fn the_demo_parses_and_holds_the_seed_services() {
        let env = parse_environment(Path::new(DEMO_PATH), DEMO_TOML).unwrap();
        assert_eq!(env.regions, ["us-east-1", "us-west-2"]);
        let orders = env.service("orders").unwrap();
        assert_eq!(orders.tier, DrTier::WarmStandby);
        assert_eq!(orders.objectives.rto, Duration::from_secs(15 * 60));
        assert_eq!(orders.objectives.rpo, Duration::from_secs(5 * 60));
        assert!(matches!(
            &orders.replication,
            Replication::AuroraGlobal { global_cluster, .. } if global_cluster == "orders-global"
        ));
        assert_eq!(orders.dns.as_ref().unwrap().ttl, 60);
        assert_eq!(env.service("billing").unwrap().tier, DrTier::PilotLight);
        assert!(matches!(
            env.service("assets").unwrap().replication,
            Replication::S3 { .. }
        ));
        assert_eq!(env.service("reports").unwrap().tier, DrTier::BackupRestore);
        assert_eq!(demo_environment(), env);
    }

    #[test]
    fn a_minimal_file_parses() {
        let env = parse(MINIMAL).unwrap();
        assert_eq!(env.services.len(), 1);
        assert_eq!(env.home_region, "us-east-1");
    }

    #[test]
    fn a_syntax_error_names_line_and_column() {
        let text = MINIMAL.replace("rpo = \"5m\"", "rpo = \"5m");
        let shown = parse(&text).unwrap_err().to_string();
        assert!(shown.starts_with("env.toml:10:"), "{shown}");
    }

    #[test]
    fn an_unknown_field_is_rejected_at_its_key() {
        let text = MINIMAL.replace("tier = ", "colour = \"red\"\ntier = ");
        let shown = parse(&text).unwrap_err().to_string();
        assert!(shown.starts_with("env.toml:8:1: "), "{shown}");
        assert!(shown.contains("unknown field `colour`"), "{shown}");
    }

    #[test]
    fn mistakes_inside_a_replication_table_point_at_the_key() {
        let table = "\n[service.replication]\nkind = \"s3\"\nsource_bucket = \"orders-a\"\ndestination_bucket = \"orders-b\"\n";
        let text = MINIMAL.replace(
            "replication = { kind = \"s3\", source_bucket = \"orders-a\", destination_bucket = \"orders-b\" }\n",
            table,
        );
        parse(&text).unwrap();
        let cases = [
            (
                "source_bucket = \"orders-a\"",
                "source_bucket = 7",
                "env.toml:16:17: invalid type: integer `7`, expected a string",
            ),
            (
                "source_bucket = \"orders-a\"",
                "source_bukket = \"x\"",
                "env.toml:16:1: unknown field `source_bukket`",
            ),
            (
                "kind = \"s3\"",
                "kind = \"pigeon\"",
                "env.toml:15:8: unknown variant `pigeon`",
            ),
            (
                "source_bucket = \"orders-a\"",
                "global_cluster = \"g\"",
                "`global_cluster` does not apply to replication kind `s3`; it takes source_bucket, destination_bucket",
            ),
            (
                "source_bucket = \"orders-a\"\n",
                "",
                "replication kind `s3` needs `source_bucket`",
            ),
        ];
        for (from, to, expected) in cases {
            let shown = parse(&text.replace(from, to)).unwrap_err().to_string();
            assert!(shown.starts_with("env.toml:"), "{to}: {shown}");
            assert!(shown.contains(expected), "{to}: {shown}");
        }
    }

    #[test]
    fn a_negative_duration_is_rejected_at_its_value() {
        let shown = parse(&MINIMAL.replace("\"15m\"", "\"-5m\""))
            .unwrap_err()
            .to_string();
        assert!(shown.starts_with("env.toml:9:7: "), "{shown}");
    }

    #[test]
    fn values_out_of_bounds_are_rejected_where_they_are_written() {
        let cases = [
            (
                "rto = \"15m\"",
                "rto = \"999999999d\"",
                "env.toml:9:7: service `orders`: rto must be at most 30d",
            ),
            (
                "rpo = \"5m\"",
                "rpo = \"31days\"",
                "env.toml:10:7: service `orders`: rpo must be at most 30d",
            ),
            (
                "\"us-west-2\"]",
                "\"mars-1\"]",
                "env.toml:3:25: regions: `mars-1` is not an AWS region name",
            ),
            (
                "\"us-west-2\"]",
                "\"evil.com/x?\"]",
                "env.toml:3:25: regions: `evil.com/x?` is not an AWS region name",
            ),
            (
                "id = \"orders\"",
                "id = \"../../etc/passwd\"",
                "env.toml:6:6: service id may hold only",
            ),
            (
                "id = \"orders\"",
                "id = \"\"",
                "env.toml:6:6: service id must not be empty",
            ),
            (
                "name = \"Orders\"",
                "name = \"Or\\u001b[2Jders\"",
                "env.toml:7:8: service `orders`: name must not hold control characters (found U+001B)",
            ),
            (
                "name = \"t\"",
                "name = \" \"",
                "env.toml:2:8: name must not be empty",
            ),
            (
                "\"orders-a\"",
                "\"a\"",
                "env.toml:13:46: service `orders`: bucket name must be 3 to 63 characters long, not 1",
            ),
        ];
        for (from, to, expected) in cases {
            let text = MINIMAL.replacen(from, to, 1);
            assert_ne!(text, MINIMAL, "{from}");
            let shown = parse(&text).unwrap_err().to_string();
            assert!(shown.starts_with(expected), "{to}: {shown}");
        }
    }

    #[test]
    fn identifiers_are_capped_at_aws_lengths() {
        let long = |n: usize| "x".repeat(n);
        let service = MINIMAL.replacen("orders", &long(65_536), 1);
        let shown = parse(&service).unwrap_err().to_string();
        assert!(
            shown.starts_with(
                "env.toml:6:6: service id must be at most 63 characters long, not 65536"
            ),
            "{shown}"
        );

        let replica = MINIMAL.replace(
            "{ kind = \"s3\", source_bucket = \"orders-a\", destination_bucket = \"orders-b\" }",
            &format!(
                "{{ kind = \"rds-replica\", source_instance = \"db\", replica_instance = \"{}\" }}",
                long(64)
            ),
        );
        let shown = parse(&replica).unwrap_err().to_string();
        assert!(
            shown.contains("replication identifier must be at most 63 characters"),
            "{shown}"
        );
        assert!(shown.starts_with("env.toml:13:"), "{shown}");

        let arn = replica.replace(&long(64), "arn:aws:rds:us-west-2:123456789012:db:replica-1");
        parse(&arn).unwrap();

        let check = format!(
            "{MINIMAL}\n[[service.health_checks]]\nid = \"{}\"\nregion = \"us-east-1\"\nfqdn = \"x\"\n",
            long(65)
        );
        let shown = parse(&check).unwrap_err().to_string();
        assert!(
            shown
                .starts_with("env.toml:16:6: service `orders`: health check id must be at most 64"),
            "{shown}"
        );

        let dns = format!(
            "{MINIMAL}\n[service.dns]\nzone_id = \"Z1\"\nrecord = \"{}\"\nprimary_target = \"a\"\nsecondary_target = \"b\"\n",
            long(256)
        );
        let shown = parse(&dns).unwrap_err().to_string();
        assert!(
            shown.starts_with("env.toml:17:10: service `orders`: dns.record must be at most 255"),
            "{shown}"
        );
    }

    #[test]
    fn a_zone_id_may_carry_the_hostedzone_prefix_but_nothing_else() {
        let with_zone = |zone: &str| {
            format!(
                "{MINIMAL}\n[service.dns]\nzone_id = \"{zone}\"\nrecord = \"a.example.com.\"\nprimary_target = \"a\"\nsecondary_target = \"b\"\n"
            )
        };
        parse(&with_zone("Z0DEMO1")).unwrap();
        parse(&with_zone("/hostedzone/Z0DEMO1")).unwrap();
        for bad in ["/other/Z1", "Z1 ", "", &"Z".repeat(33)] {
            let shown = parse(&with_zone(bad)).unwrap_err().to_string();
            assert!(
                shown.starts_with("env.toml:16:11: service `orders`: dns.zone_id"),
                "{bad}: {shown}"
            );
        }
    }

    #[test]
    fn lists_are_bounded_and_the_first_extra_item_located() {
        let service = &MINIMAL[MINIMAL.find("[[service]]").unwrap()..];
        let mut text = MINIMAL.to_string();
        for n in 1..=limits::SERVICES_MAX {
            text.push_str(&service.replace("orders", &format!("s{n}")));
        }
        let shown = parse(&text).unwrap_err().to_string();
        let line = text
            .lines()
            .position(|l| l == format!("id = \"s{}\"", limits::SERVICES_MAX))
            .unwrap();
        assert!(
            shown.starts_with(&format!(
                "env.toml:{line}:1: services: at most 10000 are allowed, not 10001"
            )),
            "{shown}"
        );
    }

    #[test]
    fn time_scale_must_be_finite_and_bounded() {
        for (value, shown_as) in [
            ("0.0", "0.0"),
            ("1e300", "1e300"),
            ("nan", "NaN"),
            ("inf", "inf"),
            ("-1.0", "-1.0"),
            ("0.01", "0.01"),
        ] {
            let text = format!("{MINIMAL}\n[sim]\ntime_scale = {value}\n");
            let shown = parse(&text).unwrap_err().to_string();
            assert!(
                shown.starts_with(
                    "env.toml:16:14: sim.time_scale must be a number from 0.1 to 3600"
                ),
                "{value}: {shown}"
            );
            assert!(
                shown.ends_with(&format!("not {shown_as}")),
                "{value}: {shown}"
            );
        }
        parse(&format!("{MINIMAL}\n[sim]\ntime_scale = 3600\n")).unwrap();
    }

    #[test]
    fn an_unknown_tier_lists_the_known_ones() {
        let text = MINIMAL.replace("warm-standby", "lukewarm");
        let shown = parse(&text).unwrap_err().to_string();
        assert!(shown.starts_with("env.toml:8:8: "), "{shown}");
        assert!(shown.contains("pilot-light"), "{shown}");
    }

    #[test]
    fn a_region_outside_the_list_names_service_and_field() {
        let text = MINIMAL.replace("dr_region = \"us-west-2\"", "dr_region = \"eu-west-1\"");
        let shown = parse(&text).unwrap_err().to_string();
        assert_eq!(
            shown,
            "env.toml:12:13: service `orders`: dr_region `eu-west-1` is not listed in `regions`"
        );
    }

    #[test]
    fn the_same_primary_and_dr_region_is_rejected() {
        let text = MINIMAL.replace("dr_region = \"us-west-2\"", "dr_region = \"us-east-1\"");
        let shown = parse(&text).unwrap_err().to_string();
        assert!(shown.contains("dr_region must differ"), "{shown}");
    }

    #[test]
    fn a_duplicate_service_id_is_rejected() {
        let service = &MINIMAL[MINIMAL.find("[[service]]").unwrap()..];
        let text = format!("{MINIMAL}\n{}", service.replace("orders-", "other-"));
        let shown = parse(&text).unwrap_err().to_string();
        assert_eq!(shown, "env.toml:16:6: service `orders` is defined twice");
    }

    #[test]
    fn a_health_check_in_an_unlisted_region_is_rejected() {
        let text = format!(
            "{MINIMAL}\n[[service.health_checks]]\nid = \"hc\"\nregion = \"eu-west-1\"\nfqdn = \"x\"\n"
        );
        let shown = parse(&text).unwrap_err().to_string();
        assert!(
            shown.contains("health check `hc` region `eu-west-1`"),
            "{shown}"
        );
    }

    #[test]
    fn a_resource_claimed_by_two_services_is_rejected() {
        let service = &MINIMAL[MINIMAL.find("[[service]]").unwrap()..];
        let text = format!("{MINIMAL}\n{}", service.replace("\"orders\"", "\"other\""));
        let shown = parse(&text).unwrap_err().to_string();
        assert!(
            shown.contains("resource `orders-a` is already used by service `orders`"),
            "{shown}"
        );
    }

    #[test]
    fn a_missing_file_is_an_io_error_naming_it() {
        let err = load_environment(Path::new("/nonexistent/env.toml")).unwrap_err();
        assert!(matches!(err, FileError::Io { .. }));
        assert!(err.to_string().starts_with("/nonexistent/env.toml: "));
    }

    #[test]
    fn a_file_on_disk_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("env.toml");
        std::fs::write(&path, MINIMAL).unwrap();
        assert_eq!(load_environment(&path).unwrap().name, "t");
    }

    #[test]
    fn synthetic_environments_are_valid_and_mix_every_kind() {
        let env = synthetic_environment(250);
        validate(&env).unwrap();
        assert_eq!(env.services.len(), 250);
        let kinds: HashSet<&str> = env
            .services
            .iter()
            .map(|s| s.replication.kind_label())
            .collect();
        assert_eq!(kinds.len(), 4);
    }

    #[test]
    fn a_realistic_estate_gives_every_service_checks_and_a_failover_pair() {
        let env = realistic_environment(40);
        validate(&env).unwrap();
        let kinds: HashSet<&str> = env
            .services
            .iter()
            .map(|s| s.replication.kind_label())
            .collect();
        assert_eq!(kinds.len(), 4);
        for s in &env.services {
            assert_eq!(s.health_checks.len(), 2, "{}", s.id);
            assert!(s.dns.is_some(), "{}", s.id);
        }
        let sparse = synthetic_environment(40);
        assert!(sparse.services.iter().any(|s| s.dns.is_none()));
    }

    #[test]
    fn a_generated_estate_written_as_toml_reads_back_the_same() {
        let env = realistic_environment(12);
        let text = toml::to_string(&env).unwrap();
        assert_eq!(parse(&text).unwrap(), env);
    }
}
