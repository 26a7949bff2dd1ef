//! The Prometheus adapter: instant queries for analysis and alert rules, range queries for
//! charts, through `prometheus-http-query`, with a timeout on every call.

use prometheus_http_query::response::Data;
use prometheus_http_query::{Client, reqwest};
use std::collections::HashMap;
use std::time::Duration;
use varai_domain::analysis::Reading;
use varai_domain::url::{redact_credentials, redacted};

/// How long one query may take.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(3);

/// A Prometheus to query.
#[derive(Clone)]
pub struct PromMetrics {
    client: Client,
    /// The URL as it may be shown: any credentials in it replaced by `***`.
    shown: String,
    /// The URL as configured, kept only to take its credentials out of error messages.
    configured: String,
}

/// One series of a range query: its labels and (seconds, value) points.
pub type RangeSeries = (HashMap<String, String>, Vec<(f64, f64)>);

impl PromMetrics {
    pub fn new(url: &str) -> Result<PromMetrics, String> {
        let http = reqwest::Client::builder()
            .timeout(QUERY_TIMEOUT)
            .no_proxy()
            .build()
            .map_err(|e| format!("could not build an HTTP client: {e}"))?;
        let shown = redacted(url);
        let client = Client::from(http, url)
            .map_err(|e| redact_credentials(&format!("Prometheus URL {shown}: {e}"), url))?;
        Ok(PromMetrics {
            client,
            shown,
            configured: url.to_owned(),
        })
    }

    /// The URL, with any credentials in it replaced by `***`.
    pub fn url(&self) -> &str {
        &self.shown
    }

    fn explain(&self, e: prometheus_http_query::Error) -> String {
        let cause = match &e {
            prometheus_http_query::Error::Client(c) => c.inner(),
            _ => None,
        };
        let at = &self.shown;
        let text = match cause {
            Some(c) if c.is_timeout() => format!(
                "Prometheus at {at} did not answer within {} s",
                QUERY_TIMEOUT.as_secs()
            ),
            Some(c) if c.is_connect() => format!("Prometheus at {at} is unreachable"),
            Some(c) => format!("Prometheus at {at}: {e}: {c}"),
            None => format!("Prometheus at {at}: {e}"),
        };
        redact_credentials(&text, &self.configured)
    }

    /// One number from an instant query: a scalar, or a vector with exactly one series.
    pub async fn observe(&self, query: &str) -> Reading {
        let result = match self.client.query(query).get().await {
            Ok(r) => r,
            Err(e) => return Reading::Failed(self.explain(e)),
        };
        match result.data() {
            Data::Scalar(s) => Reading::Value(s.value()),
            Data::Vector(v) if v.is_empty() => {
                Reading::NoData("the query returned no series (no traffic yet?)".into())
            }
            Data::Vector(v) if v.len() == 1 => Reading::Value(v[0].sample().value()),
            Data::Vector(v) => Reading::Failed(format!(
                "the query returned {} series; aggregate it to one number (sum, max, avg)",
                v.len()
            )),
            Data::Matrix(_) => Reading::Failed(
                "the query returned a range vector; wrap it in a function such as rate()".into(),
            ),
        }
    }

    /// A range query's series.
    pub async fn range(
        &self,
        query: &str,
        start: i64,
        end: i64,
        step: f64,
    ) -> Result<Vec<RangeSeries>, String> {
        let result = self
            .client
            .query_range(query, start, end, step)
            .get()
            .await
            .map_err(|e| self.explain(e))?;
        match result.data() {
            Data::Matrix(m) => Ok(m
                .iter()
                .map(|s| {
                    let points = s
                        .samples()
                        .iter()
                        .filter(|p| p.value().is_finite())
                        .map(|p| (p.timestamp(), p.value()))
                        .collect();
                    (s.metric().clone(), points)
                })
                .collect()),
            _ => Err("the range query did not return series".into()),
        }
    }

    /// Whether Prometheus answers, in words.
    pub async fn check(&self) -> Result<(), String> {
        match self.observe("vector(1)").await {
            Reading::Value(_) => Ok(()),
            Reading::NoData(why) | Reading::Failed(why) => Err(why),
        }
    }
}
