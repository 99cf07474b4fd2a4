//! Environment files: the embedded demo, user files checked for consistency,
//! and synthetic estates of any size for benchmarks.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use super::source_file::{FileError, load_toml, parse_toml};
use crate::domain::environment::{
    DnsSpec, Environment, HealthCheckSpec, Replication, ServiceSpec, SimSettings,
};
use crate::domain::objectives::{DrTier, Objectives};

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
    let env: Environment = load_toml(path)?;
    validate(path, &env)?;
    Ok(env)
}

/// Parses and checks environment text; `path` names it in errors.
pub fn parse_environment(path: &Path, text: &str) -> Result<Environment, FileError> {
    let env: Environment = parse_toml(path, text)?;
    validate(path, &env)?;
    Ok(env)
}

/// Checks what the TOML grammar cannot: references between parts of the file.
pub fn validate(path: &Path, env: &Environment) -> Result<(), FileError> {
    let invalid = |message: String| FileError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    if env.regions.is_empty() {
        return Err(invalid("`regions` must name at least one region".into()));
    }
    let mut regions = HashSet::new();
    for region in &env.regions {
        if !regions.insert(region.as_str()) {
            return Err(invalid(format!(
                "region `{region}` is listed twice in `regions`"
            )));
        }
    }
    if !(env.sim.time_scale.is_finite() && env.sim.time_scale > 0.0) {
        return Err(invalid(format!(
            "sim.time_scale must be a positive number, not {}",
            env.sim.time_scale
        )));
    }
    let mut service_ids = HashSet::new();
    let mut resource_owner: HashMap<&str, &str> = HashMap::new();
    let mut health_checks: HashMap<&str, &HealthCheckSpec> = HashMap::new();
    for service in &env.services {
        let id = service.id.as_str();
        if !service_ids.insert(id) {
            return Err(invalid(format!("service `{id}` is defined twice")));
        }
        for (field, region) in [
            ("primary_region", &service.primary_region),
            ("dr_region", &service.dr_region),
        ] {
            if !regions.contains(region.as_str()) {
                return Err(invalid(format!(
                    "service `{id}`: {field} `{region}` is not listed in `regions`"
                )));
            }
        }
        if service.primary_region == service.dr_region {
            return Err(invalid(format!(
                "service `{id}`: dr_region must differ from primary_region (both `{}`)",
                service.primary_region
            )));
        }
        for resource in service.replication.resource_ids() {
            if resource.is_empty() {
                return Err(invalid(format!(
                    "service `{id}`: replication has an empty identifier"
                )));
            }
            if let Some(owner) = resource_owner.insert(resource, id) {
                return Err(invalid(format!(
                    "service `{id}`: resource `{resource}` is already used by service `{owner}`"
                )));
            }
        }
        for check in &service.health_checks {
            if !regions.contains(check.region.as_str()) {
                return Err(invalid(format!(
                    "service `{id}`: health check `{}` region `{}` is not listed in `regions`",
                    check.id, check.region
                )));
            }
            if !FAILURE_THRESHOLDS.contains(&check.failure_threshold) {
                return Err(invalid(format!(
                    "service `{id}`: health check `{}` failure_threshold must be 1 to 10, not {}",
                    check.id, check.failure_threshold
                )));
            }
            // Services may share a check, but then they must describe the same one.
            if let Some(seen) = health_checks.insert(&check.id, check)
                && seen != check
            {
                return Err(invalid(format!(
                    "service `{id}`: health check `{}` is defined differently elsewhere",
                    check.id
                )));
            }
        }
        if let Some(dns) = &service.dns {
            validate_dns(id, dns).map_err(invalid)?;
        }
    }
    Ok(())
}

fn validate_dns(service: &str, dns: &DnsSpec) -> Result<(), String> {
    for (field, value) in [
        ("zone_id", &dns.zone_id),
        ("record", &dns.record),
        ("primary_target", &dns.primary_target),
        ("secondary_target", &dns.secondary_target),
    ] {
        if value.trim().is_empty() {
            return Err(format!("service `{service}`: dns.{field} is empty"));
        }
    }
    if dns.ttl == 0 {
        return Err(format!(
            "service `{service}`: dns.ttl must be at least 1 second"
        ));
    }
    Ok(())
}

/// An estate of `services` services mixing every replication kind, about
/// four monitored resources each (250 services ≈ 1,000 resources).
pub fn synthetic_environment(services: usize) -> Environment {
    let regions = ["us-east-1", "us-west-2"];
    let services = (0..services)
        .map(|n| {
            // Every third service runs the other way round, as real estates do.
            let (primary, dr) = if n % 3 == 2 {
                (regions[1], regions[0])
            } else {
                (regions[0], regions[1])
            };
            synthetic_service(n, primary, dr)
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

fn synthetic_service(n: usize, primary: &str, dr: &str) -> ServiceSpec {
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
    let with_traffic = !matches!(replication, Replication::Backup { .. });
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
    let dns = matches!(replication, Replication::S3 { .. }).then(|| DnsSpec {
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
replication = { kind = "s3", source_bucket = "a", destination_bucket = "b" }
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
    fn an_unknown_field_is_rejected_with_its_position() {
        let text = MINIMAL.replace("tier = ", "colour = \"red\"\ntier = ");
        let err = parse(&text).unwrap_err();
        assert!(matches!(err, FileError::Syntax { .. }), "{err}");
        assert!(err.to_string().contains("colour"), "{err}");
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
            "env.toml: service `orders`: dr_region `eu-west-1` is not listed in `regions`"
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
        let text = format!(
            "{MINIMAL}\n{}",
            service.replace("\"a\"", "\"c\"").replace("\"b\"", "\"d\"")
        );
        let shown = parse(&text).unwrap_err().to_string();
        assert_eq!(shown, "env.toml: service `orders` is defined twice");
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
            shown.contains("resource `a` is already used by service `orders`"),
            "{shown}"
        );
    }

    #[test]
    fn a_zero_time_scale_is_rejected() {
        let text = format!("{MINIMAL}\n[sim]\ntime_scale = 0.0\n");
        let shown = parse(&text).unwrap_err().to_string();
        assert!(shown.contains("sim.time_scale"), "{shown}");
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
        validate(Path::new("synthetic"), &env).unwrap();
        assert_eq!(env.services.len(), 250);
        let kinds: HashSet<&str> = env
            .services
            .iter()
            .map(|s| s.replication.kind_label())
            .collect();
        assert_eq!(kinds.len(), 4);
    }
}
