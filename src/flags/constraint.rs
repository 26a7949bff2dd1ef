//! Constraints: one test on one context field, in Unleash's shape
//! (`{contextName, operator, values | value, inverted, caseInsensitive}`).
//!
//! A constraint is compiled once, when a configuration is loaded, into a [`Matcher`] holding
//! parsed numbers, dates, versions, patterns and networks, so evaluating it parses nothing.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::net::IpAddr;

use super::context::Context;
use super::operator::Operator;
pub use super::pattern::MAX_PATTERN_CHARS;
use super::pattern::compile_pattern;
use crate::InvalidInput;

/// One test on one context field.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Constraint {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = "[^\\s\\x85]"))]
    pub context_name: String,
    pub operator: Operator,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default)]
    pub inverted: bool,
    #[serde(default)]
    pub case_insensitive: bool,
}

impl Constraint {
    /// The constraint as a sentence, e.g. `email ends with @example.com (any case)`.
    pub fn describe(&self) -> String {
        let values = match (&self.value, self.operator.takes_single_value()) {
            (Some(v), true) => v.clone(),
            _ => self.values.join(", "),
        };
        let mut text = format!("{} {} {}", self.context_name, self.operator.label(), values);
        if self.inverted {
            text = format!("not ({text})");
        }
        if self.case_insensitive {
            text.push_str(" (any case)");
        }
        text
    }
}

/// The longest context value a constraint reads, in characters. A longer value never matches
/// (whatever the operator or inversion), and the OFREP answer says it was ignored.
pub const MAX_CONTEXT_VALUE_CHARS: usize = 1_024;

/// Whether a context value is too long for a constraint to read.
pub fn too_long_to_read(value: &str) -> bool {
    value.len() > MAX_CONTEXT_VALUE_CHARS && value.chars().count() > MAX_CONTEXT_VALUE_CHARS
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Cmp {
    fn holds(self, o: Ordering) -> bool {
        match self {
            Cmp::Eq => o == Ordering::Equal,
            Cmp::Gt => o == Ordering::Greater,
            Cmp::Gte => o != Ordering::Less,
            Cmp::Lt => o == Ordering::Less,
            Cmp::Lte => o != Ordering::Greater,
        }
    }
}

#[derive(Debug, Clone)]
enum Test {
    In(Vec<String>),
    NotIn(Vec<String>),
    StartsWith(Vec<String>),
    EndsWith(Vec<String>),
    Contains(Vec<String>),
    Num(Cmp, f64),
    Date(Cmp, i64),
    Semver(Cmp, semver::Version),
    Regex(regex::Regex),
    Cidr(Vec<Network>),
    /// A value that did not parse for its operator: the constraint never holds.
    Never,
}

/// A compiled constraint, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Matcher {
    field: String,
    test: Test,
    inverted: bool,
    case_insensitive: bool,
}

impl Constraint {
    /// Compiles the constraint, refusing a value its operator cannot read. `field` is the
    /// path used in the error (e.g. `rules[0].constraints[1]`).
    pub fn compile(&self, field: &str) -> Result<Matcher, InvalidInput> {
        self.compile_with(field, true)
    }

    /// Compiles the constraint as Unleash evaluates a stored one: a value that does not parse
    /// makes the constraint false, an empty list matches nothing (`NOT_IN`: everything), and
    /// unreadable entries of an `IN_CIDR` list are skipped.
    pub fn compile_lenient(&self) -> Matcher {
        self.compile_with("constraint", false)
            .unwrap_or_else(|_| Matcher {
                field: self.context_name.clone(),
                test: Test::Never,
                inverted: self.inverted,
                case_insensitive: false,
            })
    }

    /// Refuses a constraint that names no context field to test.
    pub fn check_context_name(&self, field: &str) -> Result<(), InvalidInput> {
        if self.context_name.trim().is_empty() {
            return Err(InvalidInput::new(
                format!("{field}.contextName"),
                "name the context field to test",
            ));
        }
        Ok(())
    }

    fn compile_with(&self, field: &str, strict: bool) -> Result<Matcher, InvalidInput> {
        let bad = |what: &str, value: &str, expected: &str| {
            InvalidInput::unprocessable(
                format!("{field}.{what}"),
                format!(
                    "'{value}' is not {expected}, which {} needs",
                    self.operator.as_str()
                ),
            )
        };
        self.check_context_name(field)?;
        let single = || -> Result<&str, InvalidInput> {
            match (&self.value, self.values.as_slice()) {
                (Some(v), _) => Ok(v.as_str()),
                (None, [v]) => Ok(v.as_str()),
                _ => Err(InvalidInput::unprocessable(
                    format!("{field}.value"),
                    format!(
                        "{} compares with one value; give it in `value`",
                        self.operator.as_str()
                    ),
                )),
            }
        };
        let list = |lower: bool| -> Result<Vec<String>, InvalidInput> {
            if self.values.is_empty() && strict {
                return Err(InvalidInput::unprocessable(
                    format!("{field}.values"),
                    format!("{} needs at least one value", self.operator.as_str()),
                ));
            }
            Ok(self
                .values
                .iter()
                .map(|v| if lower { v.to_lowercase() } else { v.clone() })
                .collect())
        };
        let ci = self.case_insensitive;
        let test = match self.operator {
            Operator::In => Test::In(list(ci)?),
            Operator::NotIn => Test::NotIn(list(ci)?),
            Operator::StrStartsWith => Test::StartsWith(list(ci)?),
            Operator::StrEndsWith => Test::EndsWith(list(ci)?),
            Operator::StrContains => Test::Contains(list(ci)?),
            Operator::NumEq
            | Operator::NumGt
            | Operator::NumGte
            | Operator::NumLt
            | Operator::NumLte => {
                let v = single()?;
                let n = parse_number(v).ok_or_else(|| bad("value", v, "a number"))?;
                Test::Num(self.cmp(), n)
            }
            Operator::DateAfter | Operator::DateBefore => {
                let v = single()?;
                let t = parse_date(v).ok_or_else(|| bad("value", v, "an RFC 3339 date-time"))?;
                Test::Date(self.cmp(), t)
            }
            Operator::SemverEq
            | Operator::SemverGt
            | Operator::SemverGte
            | Operator::SemverLt
            | Operator::SemverLte => {
                let v = single()?;
                let sv = semver::Version::parse(v.trim())
                    .map_err(|_| bad("value", v, "a semantic version such as 1.2.3"))?;
                Test::Semver(self.cmp(), sv)
            }
            Operator::Regex => Test::Regex(compile_pattern(single()?, ci).map_err(|message| {
                InvalidInput::unprocessable(format!("{field}.value"), message)
            })?),
            Operator::InCidr => {
                let mut nets = Vec::with_capacity(self.values.len());
                for v in list(false)? {
                    match Network::parse(&v) {
                        Some(n) => nets.push(n),
                        None if strict => {
                            return Err(bad(
                                "values",
                                &v,
                                "an IP address or CIDR range such as 10.0.0.0/8",
                            ));
                        }
                        None => {}
                    }
                }
                Test::Cidr(nets)
            }
        };
        Ok(Matcher {
            field: self.context_name.clone(),
            test,
            inverted: self.inverted,
            case_insensitive: ci,
        })
    }

    fn cmp(&self) -> Cmp {
        match self.operator {
            Operator::NumGt | Operator::SemverGt | Operator::DateAfter => Cmp::Gt,
            Operator::NumGte | Operator::SemverGte => Cmp::Gte,
            Operator::NumLt | Operator::SemverLt | Operator::DateBefore => Cmp::Lt,
            Operator::NumLte | Operator::SemverLte => Cmp::Lte,
            _ => Cmp::Eq,
        }
    }
}

/// What one test of a `REGEX` constraint may cost, counted in simple tests (see
/// [`Matcher::cost`]): the slowest pattern allowed on the longest value read takes about a
/// hundred times as long as comparing a string.
const REGEX_COST: u32 = 100;

/// The summed [`Matcher::cost`] of `matchers`, starting from `start`.
pub(super) fn cost_of(matchers: &[Matcher], start: u32) -> u32 {
    matchers
        .iter()
        .fold(start, |sum, m| sum.saturating_add(m.cost()))
}

impl Matcher {
    /// An upper bound on the work of one test, counted in simple tests (a string comparison is
    /// 1): what decides whether an evaluation is cheap enough to run on an async worker.
    pub fn cost(&self) -> u32 {
        match self.test {
            Test::Regex(_) => REGEX_COST,
            _ => 1,
        }
    }

    /// Whether the context satisfies the constraint. Never fails: a missing or unreadable
    /// context value simply does not match (and `NOT_IN` holds for a missing value, as in Unleash).
    /// A value longer than [`MAX_CONTEXT_VALUE_CHARS`] is not read: the constraint does not hold.
    pub fn matches(&self, ctx: &Context<'_>) -> bool {
        let value = ctx.field(&self.field);
        if value.as_deref().is_some_and(too_long_to_read) {
            return false;
        }
        let result = match (&self.test, value) {
            (Test::Never, _) => false,
            (Test::NotIn(_), None) => true,
            (Test::Date(cmp, t), v) => {
                let now = match v {
                    Some(v) => parse_date(&v),
                    None if self.field == "currentTime" => Some(ctx.now_ms),
                    None => None,
                };
                now.is_some_and(|now| cmp.holds(now.cmp(t)))
            }
            (_, None) => false,
            (test, Some(v)) => {
                let v = if self.case_insensitive {
                    v.to_lowercase().into()
                } else {
                    v
                };
                let v = v.as_ref();
                match test {
                    Test::In(list) => list.iter().any(|x| x == v),
                    Test::NotIn(list) => !list.iter().any(|x| x == v),
                    Test::StartsWith(list) => list.iter().any(|x| v.starts_with(x.as_str())),
                    Test::EndsWith(list) => list.iter().any(|x| v.ends_with(x.as_str())),
                    Test::Contains(list) => list.iter().any(|x| v.contains(x.as_str())),
                    // Equal within the rounding of one decimal number, as Unleash compares.
                    Test::Num(Cmp::Eq, n) => {
                        parse_number(v).is_some_and(|x| (x - n).abs() < f64::EPSILON)
                    }
                    Test::Num(cmp, n) => parse_number(v)
                        .and_then(|x| x.partial_cmp(n))
                        .is_some_and(|o| cmp.holds(o)),
                    // Precedence, as semantic versioning defines it: build metadata is ignored.
                    Test::Semver(cmp, sv) => semver::Version::parse(v.trim())
                        .is_ok_and(|x| cmp.holds(x.cmp_precedence(sv))),
                    Test::Regex(re) => re.is_match(v),
                    Test::Cidr(nets) => v
                        .trim()
                        .parse::<IpAddr>()
                        .is_ok_and(|ip| nets.iter().any(|n| n.contains(ip))),
                    Test::Date(..) | Test::Never => false,
                }
            }
        };
        result != self.inverted
    }
}

fn parse_number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Parses an RFC 3339 date-time (or a bare `YYYY-MM-DD`, read as midnight UTC) to ms.
pub fn parse_date(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let s = s.trim();
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok();
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &format)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp() * 1000)
}

/// An address range: an IP address and how many leading bits must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `10.0.0.0/8`, `2001:db8::/32` or a single address.
    pub fn parse(s: &str) -> Option<Network> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Network { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}
